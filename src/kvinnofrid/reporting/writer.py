"""The claim functions the report's templates call, and the ledger of what they said.

``Writer(tables, stats, registry, codebook)`` reads the national tables and the
comparison rows, builds every passage's family (kvinnofrid.statistics.claims) and hands
the templates one method per kind of claim. Each method picks the numbers, lets
kvinnofrid.reporting.wording choose the words, records the result in ``ledger`` (one
``Said`` per call: text, words, claim) and returns the text. The ledger is written
beside the book (``pastaenden.json``) and is what the tests check against the tables.

A diagram is named by its registry id or number; a category by ``code`` / ``codes``
(options of the diagram's variable) or ``label`` / ``labels`` (derived categories).

    share(diagram, code=…, clause=None, group=None, count=False)  one share, words by rule
    most_common(diagram, group=None)       the two largest categories
    composition(diagram)                   who the cases are (options with a ``plural``)
    group_size(diagram, code, subject)     "en majoritet" / "en minoritet"
    extremes(diagram)                      highest and lowest mean (diagram of means)
    trend(diagram, code, along)            one category's share over the groups
    passage(id)                            a passage's comparisons: claims, then screen
    headline(id)                           the passage's first claim (largest significant)
    fact(key, clause, base, count=, of=)   a share from facts.json, words by the same rules
    best_unit()                            the unit with the largest top group (small base!)
    several_units(units, municipalities)   a note when municipalities took part with several units
    families()                             every passage's family, for the method appendix
"""

from __future__ import annotations

from typing import Any

import polars as pl

from kvinnofrid.reporting import wording
from kvinnofrid.reporting.wording import GroupNames, Said
from kvinnofrid.spec.codebook import Codebook, lower_first
from kvinnofrid.spec.diagrams import OPTION_VARIABLES, Diagram, Registry, category_clause
from kvinnofrid.statistics.claims import Difference, Share, passage_differences, ranking, share_of

__all__ = ["Writer"]


class Writer:
    """The claims of one report (see the module docstring)."""

    def __init__(
        self,
        tables: dict[int, pl.DataFrame],
        stats: pl.DataFrame | None,
        registry: Registry,
        codebook: Codebook,
        facts: dict[str, Any] | None = None,
    ) -> None:
        self.tables, self.registry, self.codebook = tables, registry, codebook
        self.facts = dict(facts or {})
        self.differences = passage_differences(stats, registry, codebook)
        self.small_base = int(registry.defaults.get("small_base", 30))
        self.ledger: list[Said] = []

    # ------------------------------------------------------------ lookups

    def diagram(self, key: int | str) -> Diagram:
        return self.registry[key] if isinstance(key, int) else self.registry.by_id(key)

    def _labels(self, d: Diagram, code: Any, codes: Any, label: Any, labels: Any) -> list[str]:
        if code is not None or codes is not None:
            var = self.codebook[d.category["variable"]]
            return [var.label_of(c) for c in ([code] if code is not None else codes)]
        if label is not None or labels is not None:
            return [label] if label is not None else list(labels)
        raise ValueError(f"diagram {d.number}: ange code, codes, label eller labels")

    def _variable(self, d: Diagram) -> str:
        """The variable (or derived column) whose categories the diagram shows."""
        if d.table == "flag":
            return d.extra["flag"]
        return d.category.get("variable") or d.category["column"]

    def clause(self, variable: str, label: str) -> str:
        return category_clause(self.registry, self.codebook, variable, label)

    def _record(self, said: Said) -> str:
        self.ledger.append(said)
        return said.text

    # ------------------------------------------------------------ descriptive claims

    def share(
        self,
        diagram: int | str,
        code: int | None = None,
        codes: list[int] | None = None,
        label: str | None = None,
        labels: list[str] | None = None,
        clause: str | None = None,
        group: str | None = None,
        count: bool = False,
        base: str | None = None,
    ) -> str:
        """ "{clause} i de flesta av ärendena (59 procent)." for the categories given;
        ``clause`` is needed for several categories (their common clause)."""
        d = self.diagram(diagram)
        chosen = self._labels(d, code, codes, label, labels)
        if d.multi and len(chosen) > 1:
            # a case can have several options: their shares cannot be added
            raise ValueError(f"diagram {d.number} är ett flervalsdiagram: andelar av flera kategorier kan inte adderas")
        if clause is None:
            if len(chosen) != 1:
                raise ValueError(f"diagram {d.number}: flera kategorier behöver en egen sats (clause)")
            clause = self.clause(self._variable(d), chosen[0])
        found = share_of(self.tables[d.number], chosen, group, d.number)
        if found.share is None:  # no case has the variable: nothing to say
            return ""
        return self._record(wording.share_sentence(clause, found, base or d.base, self.small_base, count))

    def most_common(self, diagram: int | str, group: str | None = None) -> str:
        """ "Vanligast var att … (32 procent av …), följt av att … (28 procent)."."""
        d = self.diagram(diagram)
        ranked = [s for s in ranking(self.tables[d.number], group, d.number) if s.share is not None and s.n]
        if not ranked:
            return ""
        items = [(self.clause(self._variable(d), s.categories[0]), s) for s in ranked[:2]]
        return self._record(wording.ranking_sentence(items, d.base))

    def composition(self, diagram: int | str) -> str:
        """ "De flesta klienterna (94 procent) var kvinnor och 6 procent var män …"."""
        d = self.diagram(diagram)
        var = self.codebook[d.category["variable"]]
        items = [(o.plural, share_of(self.tables[d.number], [o.label], None, d.number)) for o in var.options]
        if any(s.share is None for _, s in items):
            return ""
        return self._record(wording.composition(items))

    def group_size(self, diagram: int | str, code: int, subject: str) -> str:
        """ "{Subject} var en minoritet av klienterna (6 procent, 190 ärenden)."."""
        d = self.diagram(diagram)
        found = share_of(self.tables[d.number], self._labels(d, code, None, None, None), None, d.number)
        if found.share is None:
            return ""
        return self._record(wording.group_size(found, subject))

    def extremes(self, diagram: int | str) -> str:
        """Highest and lowest mean of a diagram of means, named by the registry's phrases."""
        d = self.diagram(diagram)
        phrase = {m["label"]: m["phrase"] for m in d.extra["means"]}
        rows = self.tables[d.number].filter(~pl.col("suppressed").fill_null(False)).to_dicts()
        measure = self.registry.phrases["means"][d.extra.get("value", "n_interventions")]
        items = [(phrase[r["category"]], r) for r in rows if r.get("mean") is not None]
        if len(items) < 2:
            return ""
        return self._record(wording.mean_extremes(items, measure["unit"], int(measure["digits"])))

    def trend(self, diagram: int | str, along: str, code: int | None = None, label: str | None = None) -> str:
        """One category's share in each group of a grouped diagram, in the groups' order."""
        d = self.diagram(diagram)
        chosen = self._labels(d, code, None, label, None)
        table = self.tables[d.number]
        groups = [g for g in table["group"].unique(maintain_order=True).to_list() if g]
        column = d.groups["column"]
        names = [self._group_phrase(column, g) for g in groups]
        shares = [(n, share_of(table, chosen, g, d.number)) for n, g in zip(names, groups)]
        if len(shares) < 2 or any(s.share is None for _, s in shares):
            return ""
        subject = self.clause(self._variable(d), chosen[0])
        return self._record(wording.trend_sentence(subject, shares, along))

    def fact(
        self, key: str, clause: str, base: str = "ärendena", count: str | None = None, of: str | None = None
    ) -> str:
        """A share from facts.json (``key``) in the words of ``share``: ``count`` and
        ``of`` name the facts of its cases and its base (a small base is said so)."""
        if self.facts.get(key) is None:  # the fact's base is empty: nothing to say
            return ""
        n = int(self.facts[count]) if count else 0
        denominator = int(self.facts[of]) if of else None
        found = Share(0, (key,), None, n, denominator, self.facts[key])
        said = wording.share_sentence(clause, found, base, self.small_base, count is not None)
        return self._record(Said(said.kind, said.text, said.words, {**said.claim, "fact": key}))

    def best_unit(self) -> str:
        """The unit whose top group is the largest share of its closed cases; on a
        small base as a count with a caveat (the share of six cases says little)."""
        n, of = self.facts.get("best_unit_top_group_n"), self.facts.get("best_unit_closed_n")
        if n is None or of is None:
            return ""
        share = Share(0, ("best_unit_top_group_share",), None, int(n), int(of), self.facts["best_unit_top_group_share"])
        return self._record(wording.best_unit(share, self.small_base))

    def several_units(self, units: int, municipalities: int) -> str:
        """Where municipalities took part with several units: say that the units are more."""
        return self._record(wording.several_units(units, municipalities))

    def _group_phrase(self, column: str, group: str) -> str:
        entry = self.registry.phrases.get(column, {}).get("options", {}).get(group)
        return entry["phrase"] if entry and "phrase" in entry else group

    # ------------------------------------------------------------ comparisons

    def names(self, d: Difference) -> GroupNames:
        """The two groups of a comparison in prose (registry ``comparison_prose``)."""
        prose = self.registry.labels["comparison_prose"][d.comparison]

        def fill(text: str, group: str | None) -> str:
            phrase = ""
            if "variable" in prose and group:
                var = self.codebook[prose["variable"]]
                option = var.option(var.code_of(group))
                phrase = option.phrase or lower_first(option.shown)
            return text.format(group=lower_first(group or ""), phrase=phrase)

        measure = self.registry.phrases["means"].get(d.variable, {}) if d.is_mean else {}
        return GroupNames(
            fill(prose["a"], d.group_a),
            fill(prose["b"], d.group_b),
            fill(prose["among_a"], d.group_a),
            fill(prose["among_b"], d.group_b),
            higher=measure.get("higher", "högre"),
            lower=measure.get("lower", "lägre"),
            unit_each=bool(measure.get("unit_each", False)),
        )

    def describe(self, d: Difference) -> tuple[str, GroupNames, str, int]:
        """(subject, group names, unit, decimals) of one comparison, for wording."""
        if d.is_mean:
            measure = self.registry.phrases["means"][d.variable]
            return measure["measure"], self.names(d), measure["unit"], int(measure["digits"])
        return self.clause(OPTION_VARIABLES.get(d.variable, d.variable), d.category), self.names(d), "", 1

    def noun(self, variable: str) -> str:
        nouns = self.registry.phrases.get("nouns", {})
        return nouns.get(variable) or lower_first(self.codebook[variable].label)

    def _said_difference(self, d: Difference) -> Said:
        subject, names, unit, digits = self.describe(d)
        return wording.difference_sentences(d, names, subject, unit, digits, self.small_base)

    def _ordered_claims(self, passage_id: str) -> list[Difference]:
        """The passage's claims, statistically significant ones first, the strongest
        evidence first (lowest adjusted p; shares and means have no common unit): what
        a passage says first follows from the data."""
        claims = [d for d in self.differences[passage_id] if not d.screened]
        return sorted(claims, key=lambda d: (not d.significant, d.p_family if d.p_family is not None else 2.0))

    def passage(self, passage_id: str, bullets: bool = False) -> str:
        """Everything the passage says: its claims (one paragraph or bullet each), then
        what its screen found."""
        if passage_id not in self.differences:
            raise KeyError(f"avsnittet {passage_id!r} har inga jämförelser i diagramregistret (passages)")
        parts = [self._record(self._said_difference(d)) for d in self._ordered_claims(passage_id)]
        screened = [d for d in self.differences[passage_id] if d.screened]
        if screened:
            nouns = [self.noun(v) for v in dict.fromkeys(d.variable for d in screened)]
            parts.append(self._record(wording.screen_paragraph(screened, self.describe, nouns)))
        if bullets:
            return "\n".join(f"- {p}" for p in parts)
        return "\n\n".join(parts)

    def headline(self, passage_id: str) -> str:
        """The passage's first claim (its strongest significant difference), or, when
        none of its comparisons is statistically significant, that none is."""
        claims = self._ordered_claims(passage_id) or list(self.differences[passage_id])
        significant = [d for d in claims if d.significant]
        if significant:
            return self._record(self._said_difference(significant[0]))
        tested = [d for d in claims if d.available and d.p_family is not None]
        if not tested:
            return ""
        return self._record(wording.none_significant(tested, self.names(tested[0])))

    def families(self) -> list[dict[str, Any]]:
        """Per passage: where it is (section or diagram), its title and its family size."""
        out = []
        for key, ds in self.differences.items():
            title = (
                self.registry.section(key).title
                if key in {s.id for s in self.registry.sections}
                else f"Diagram {self.registry.by_id(key).number}"
            )
            tested = sum(d.p_family is not None for d in ds)
            out.append({"id": key, "title": title, "claims": len(ds), "tested": tested})
        return out

    def ledger_json(self) -> list[dict[str, Any]]:
        return [{"kind": s.kind, "text": s.text, "words": list(s.words), "claim": s.claim} for s in self.ledger]
