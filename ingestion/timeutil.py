"""Local Warsaw wall-clock times to UTC, with the daylight-saving edges made explicit."""

from __future__ import annotations

import pandas as pd

WARSAW = "Europe/Warsaw"


def localize_warsaw(local: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Return (UTC instant, is_ambiguous, is_nonexistent) for naive Warsaw wall-clock times.

    In the autumn fold (02:00–02:59 happens twice) a time without an offset cannot be
    resolved; we take the first occurrence (summer time) and flag it. In the spring
    gap (02:00–02:59 does not exist) we shift forward to 03:00 and flag it, so that
    no record is lost and analysts can exclude the flagged ones.
    """
    local = pd.to_datetime(local)
    probe = local.dt.tz_localize(WARSAW, ambiguous="NaT", nonexistent="NaT")
    plain = probe.notna() | local.isna()
    first_try = local.dt.tz_localize(WARSAW, ambiguous=[True] * len(local), nonexistent="NaT")
    nonexistent = first_try.isna() & local.notna()
    ambiguous = ~plain & ~nonexistent
    resolved = local.dt.tz_localize(WARSAW, ambiguous=[True] * len(local), nonexistent="shift_forward")
    return resolved.dt.tz_convert("UTC"), ambiguous.astype(bool), nonexistent.astype(bool)
