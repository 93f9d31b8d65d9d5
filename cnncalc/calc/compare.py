"""Depthwise-separable vs standard convolution: the cost ratio 1/C_out + 1/K², from two engine runs."""

from __future__ import annotations

from fractions import Fraction

from cnncalc.calc.worked import Worked, num
from cnncalc.engine.result import AnalysisResult


def separable_ratio(separable: AnalysisResult, standard: AnalysisResult) -> Fraction:
    """MACs of the separable layers over MACs of the standard conv, exactly."""
    return Fraction(separable.totals.macs, standard.totals.macs)


def explain_separable_ratio(
    separable: AnalysisResult, standard: AnalysisResult, kernel: int | list[int], out_channels: int, multiplier: int
) -> Worked:
    """Why the ratio is 1/C_out + 1/K²: depthwise K²·C_in and pointwise C_in·C_out per position,
    against K²·C_in·C_out for the standard conv on the same output grid."""
    worked = Worked()
    sep_macs, std_macs = separable.totals.macs, standard.totals.macs
    ratio = separable_ratio(separable, standard)
    worked.say(f"Standard conv with the same kernel, stride and padding: {num(std_macs)} MACs")
    worked.say(f"Separable (depthwise + pointwise): {num(sep_macs)} MACs")
    worked.say(f"Ratio = {num(sep_macs)} / {num(std_macs)} = {num(ratio)} ≈ {float(ratio):.4f}")
    taps = kernel * kernel if isinstance(kernel, int) else _product(kernel)
    if multiplier == 1:
        worked.say("Per output position: (K²·C_in + C_in·C_out) / (K²·C_in·C_out) = 1/C_out + 1/K²", 1)
        formula = Fraction(1, out_channels) + Fraction(1, taps)
        worked.say(f"= 1/{out_channels} + 1/{taps} = {num(formula)} ≈ {float(formula):.4f}", 1)
        worked.check("separable cost ratio", formula, ratio)
        worked.say(f"The separable layer is {float(1 / ratio):.2f}× cheaper (bias excluded, as in MACs)")
    return worked


def _product(values: list[int]) -> int:
    total = 1
    for value in values:
        total *= value
    return total
