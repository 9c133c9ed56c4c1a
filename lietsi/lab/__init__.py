"""Lab stage: laboratory results (EMPOP rows and FASTA reads) → one quality-checked profile per sample.

Every result row of `raw.ket_qua_adn` ends either in a profile or in the quarantine with a reason:

1. **Read.** A CSV row's range and haplotype are parsed (:mod:`lietsi.lab.mtdna`), rebuilt as the
   sequence they describe and re-called from it (:func:`lietsi.lab.alignment.normalize_profile`), so
   ``310.1C`` becomes ``315.1C``, ``58C 60.1T`` becomes ``57.1C``, and a FASTA read of the same
   sample gives the same text. A FASTA record is aligned to rCRS
   (:func:`lietsi.lab.alignment.call_read`).
2. **QC** (reasons in :data:`lietsi.lab.results.REASONS`): lab verdict ``Không đạt``; unreadable
   range or haplotype; read that does not align; range too short for the control region's
   informative sites; too many ambiguous bases; more than two point heteroplasmies; variants outside
   the range read; sample id not in the sample log (`mau_adn`).
3. **Duplicates.** Results of one sample that agree on the range both cover are merged (union of
   ranges); results that disagree are all quarantined — which one is right is the lab's call.
4. **Join** to the sample log: sample kind (remains / relative), remains id (``Mã hài cốt``) or the
   donor's citizen-id hash, which :func:`lietsi.lab.profiles.link_relatives` turns into
   ``relative_id``.
5. **Haplogroup** (:mod:`lietsi.lab.haplogroups`), once per distinct (range, haplotype).
6. **Population frequencies** (:func:`lietsi.lab.frequencies.haplotype_frequencies`).

Modules:
- `mtdna`: EMPOP notation (ranges, variants), shared with matching and the generator.
- `alignment`: reads aligned to rCRS, profiles re-called from their sequence.
- `results`: reading one result row, QC (`QcRules`, `REASONS`), merging a sample's results (1-3).
- `profiles`: one profile per sample, joined to the sample log, with haplogroups and donors (4-5).
- `haplogroups`: PhyloTree 17 classification.
- `frequencies`: haplotype frequencies in the reference population (6).
- `comparison`: the forensic comparison rules (SWGDAM) used by frequencies and matching.
- `evaluation`: profiles against the synthetic truth.
"""
