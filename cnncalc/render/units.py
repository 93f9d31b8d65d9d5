"""Human-readable numbers: 25.56 M, 4.09 G, 97.5 MiB."""

from __future__ import annotations

_DECIMAL = ((10**15, "P"), (10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))
_BINARY = ((2**50, "PiB"), (2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))


def human(value: int, digits: int = 2) -> str:
    """Decimal units (K = 10^3 ... P = 10^15), as papers quote params and FLOPs."""
    for scale, suffix in _DECIMAL:
        if abs(value) >= scale:
            return f"{value / scale:.{digits}f} {suffix}"
    return str(value)


def human_bytes(value: int) -> str:
    for scale, suffix in _BINARY:
        if abs(value) >= scale:
            return f"{value / scale:.2f} {suffix}"
    return f"{value} B"


def grouped(value: int) -> str:
    """Exact integer with thousands separators: 25,557,032."""
    return f"{value:,}"
