import itertools

from lietsi.graphs import UnionFind


def test_groups_and_their_ids_do_not_depend_on_link_order():
    links = [("c", "d"), ("b", "c"), ("x", "y"), ("a", "d")]
    roots = set()
    for order in itertools.permutations(links):
        uf: UnionFind[str] = UnionFind()
        for a, b in order:
            uf.union(a, b)
        roots.add(tuple(uf.find(x) for x in "abcdxy"))
    assert roots == {("a", "a", "a", "a", "x", "x")}
    assert "z" not in uf and "a" in uf
