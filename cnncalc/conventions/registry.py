"""Conventions and their rules: one small function per (convention, layer kind), registered by a decorator.

A convention decides every layer kind: with a rule of its own, with its default rule (the engine's own
conventions count the engine's MACs for everything), or as zero for a kind that every tool counts as zero
(its record says it does no work, or that PyTorch writes it as tensor code). Any other kind, one added to the
engine without a decision for this tool, is refused loudly instead of being counted as zero by accident.

A layer marked `functional: true` is a function call in the model's forward (`F.relu(x)`), not a module:
a convention says what its tool sees of such a call with `functional_terms`, a filter of what the module
rule counts (tools that hook modules see nothing, tools that trace operators or patch functions see the
same call the module would have made), and `functional_rule` for a kind whose function is not the one its
module calls (F.relu6, where nn.ReLU6 calls F.hardtanh).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cnncalc.base.registration import register_once
from cnncalc.conventions.kinds import counts_zero_everywhere
from cnncalc.conventions.model import LayerView, Part, Term
from cnncalc.engine.result import AnalysisResult
from cnncalc.kinds import REGISTRY

Rule = Callable[[LayerView], list[Term]]
Headline = Callable[[list[Term], int, int], int]  # (terms in execution order, batch, core_scale) -> headline
Refusal = Callable[[AnalysisResult], str | None]  # why the tool fails on a whole network, or None
TermFilter = Callable[[list[Term]], list[Term]]


def every_term(terms: list[Term]) -> list[Term]:
    """A tool that traces operators or patches functions sees a function call as it sees the module's."""
    return terms


def no_term(terms: list[Term]) -> list[Term]:
    """A tool that only hooks modules does not see a function call at all."""
    return []


def whole_batch_headline(terms: list[Term], batch: int, core_scale: int) -> int:
    """Tools that count the whole batch in exact integers."""
    return int(sum(_scaled(term, core_scale) for term in terms))


def per_image_headline(terms: list[Term], batch: int, core_scale: int) -> int:
    """Tools that report one image: the whole-batch count divided by the batch."""
    total = sum(_scaled(term, core_scale) for term in terms)
    return int(total) // batch


def _scaled(term: Term, core_scale: int) -> int | float:
    return term.amount * core_scale if term.part is Part.CORE else term.amount


@dataclass
class Convention:
    """One tool's way of counting: its rules per layer kind and how it turns them into its headline."""

    name: str
    tool: str  # the tool and the version whose rules are reproduced
    unit: str  # "MACs" or "FLOPs": what the headline really counts
    label: str  # what the tool calls its number
    batch_handling: str
    summary: str  # its rules in one sentence, for the `conventions` table
    headline: Headline = whole_batch_headline
    refuses: Refusal | None = None
    default: Rule | None = None  # the rule of every kind without one of its own
    rules: dict[str, Rule] = field(default_factory=dict)
    functional_terms: TermFilter = every_term  # what the tool sees of a layer run as a function call
    functional_rules: dict[str, Rule] = field(default_factory=dict)  # where that is not a filter of the module's

    @property
    def core_scale(self) -> int:
        """2 where a multiply-accumulate counts as two FLOPs."""
        return 2 if self.unit == "FLOPs" else 1

    def rule_for(self, kind: str, functional: bool = False) -> Rule:
        """The rule that counts `kind`, run as a module or, with `functional`, as a function call (raises
        MissingRuleError when this convention has not decided the kind)."""
        if functional:
            if kind in self.functional_rules:
                return self.functional_rules[kind]
            module_rule = self.rule_for(kind)
            seen = self.functional_terms
            return lambda view: seen(module_rule(view))
        if kind in self.rules:
            return self.rules[kind]
        if self.default is not None:
            return self.default
        if counts_zero_everywhere(REGISTRY[kind]):
            return zero
        raise MissingRuleError(
            f"the {self.name} convention has no rule for layer kind {kind!r}, which does work: say how "
            f"{self.tool} counts it with @{self.name.upper()}.rule({kind!r}) in cnncalc/conventions"
        )

    def rule(self, *kinds: str | Iterable[str]) -> Callable[[Rule], Rule]:
        """Register `rule` for the given kinds (names or groups of names); each kind only once."""
        return _register(self.rules, f"convention {self.name!r} has two rules", kinds)

    def functional_rule(self, *kinds: str | Iterable[str]) -> Callable[[Rule], Rule]:
        """Register how the tool counts these kinds run as function calls, where `functional_terms` of the
        module's rule is not it; each kind only once."""
        return _register(self.functional_rules, f"convention {self.name!r} has two functional rules", kinds)


def _register(table: dict[str, Rule], twice: str, kinds: tuple[str | Iterable[str], ...]) -> Callable[[Rule], Rule]:
    names: list[str] = []
    for kind in kinds:
        names.extend([kind] if isinstance(kind, str) else sorted(kind))
    return register_once(table, names, twice + " for {name}")


class MissingRuleError(LookupError):
    """A convention meets a layer kind it has not decided."""


def zero(view: LayerView) -> list[Term]:
    """The tool sees no work in this layer."""
    return []
