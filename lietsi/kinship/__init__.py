"""Kinship text of the survey forms → kin path → does the relative share the martyr's mtDNA?

Form 02 (and the allowance recipient of form 01) states how a relative is related to the martyr in
free Vietnamese, as a commune officer writes it: `mẹ`, `em gái ruột`, `anh cùng mẹ khác cha`,
`con gái của chị gái`, `cháu (con của em trai)`, `cháu gọi bằng cậu`, `dì ruột`, `con của dì`.

The text is read by a small grammar, not a table of phrases:

- *tokens*: words are normalised (NFC, one tone placement, lower case) and matched to the
  kinship vocabulary exactly; a word written without diacritics or with a typo is matched on its
  ASCII form (unidecode) and, failing that, by edit distance (rapidfuzz); a word that could be
  two vocabulary words (`ba`: father, or `bà`: grandmother) keeps both and the text is read both
  ways;
- *noun phrases*: a kin term (`mẹ`, `chị`, `con`, `cậu`, `bà ngoại` …) followed by modifiers
  (`gái`/`trai` sex, `ruột` full blood, `cùng mẹ khác cha` half-sibling clause, `nuôi`/`kế`
  not by blood, `dâu`/`rể` in-law, `họ` extended family, birth-order words `hai`, `út` …);
- *composition*: `A của B` (or `A B`) is A of B, so the path runs B's steps then A's;
- *inversion*: `cháu gọi (liệt sĩ) bằng cậu` says the martyr is the relative's cậu; the path
  from the martyr is the inverse of the cậu path;
- *apposition*: `cháu (con của em trai)`, `cháu - con của em trai`: each part is read alone and
  the readings are unified, the specific one refining the generic one.

A kin path is a sequence of steps from the martyr to the relative: parent, child, sibling (full,
same mother, same father, or not stated) or spouse, each with the sex of the person reached when
the text gives it. mtDNA passes from a woman to her children only, so the relative shares the
martyr's mtDNA when every step passes it: a parent step reaches a mother, a child step leaves a
woman, a sibling step is not same-father-only, no spouse and no adoptive or step relation. One
step that cannot pass it decides "no"; a step whose sex or side is not stated leaves the answer
open (`None`, with the reason), and so does a text with two readings that disagree. Nothing is
guessed.

Modules: `kin_paths` (steps, paths, readings, how a path is written), `vocabulary` (kin terms and
modifiers), `tokens` (words of a text matched to the vocabulary), `grammar` (`parse_kinship`),
`mtdna` (`shares_mtdna`, `decide`, `parse_sex`). From the decided statements to whom the teams
sample: `statements` (`kinship_statements`), `maternal` (candidates per pair, maternal lines),
`worklist` (`sampling_worklist`), `sheets` (printable worklists per commune), `evaluation` (against
the synthetic truth).
"""
