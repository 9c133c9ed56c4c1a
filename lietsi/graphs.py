"""Union-find over hashable, orderable ids: the one way the stages group linked things."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


class UnionFind(Generic[T]):
    """Disjoint sets whose root is always the smallest member, so a group's id never depends on
    the order in which its links were seen (stable ids across re-runs)."""

    def __init__(self) -> None:
        self.parent: dict[T, T] = {}

    def find(self, x: T) -> T:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: T, b: T) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # type: ignore[type-var]

    def __contains__(self, x: T) -> bool:
        return x in self.parent


# Attributes of a group (e.g. certificate numbers, mothers, sexes) that two merged groups pool.
Attrs = tuple[frozenset, ...]


def constrained_union(
    attrs: dict[int, Attrs], edges: list[tuple[int, int]], conflicts: Callable[[Attrs, Attrs], bool]
) -> tuple[dict[int, int], int]:
    """Greedy union-find over `edges` (strongest first) that refuses any merge `conflicts` forbids.

    Returns (node → representative, number of refused merges).
    """
    parent = {u: u for u in attrs}
    groups = dict(attrs)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    refused = 0
    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        if conflicts(groups[ra], groups[rb]):
            refused += 1
            continue
        parent[rb] = ra
        groups[ra] = tuple(x | y for x, y in zip(groups[ra], groups.pop(rb), strict=True))
    return {u: find(u) for u in parent}, refused
