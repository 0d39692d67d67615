"""Time arguments: None, epoch nanoseconds, ISO-8601 text, datetime, numpy datetime64 or pandas Timestamp."""

import datetime as _dt

import numpy as np
import pandas as pd


def to_ns(value, name):
    """Epoch nanoseconds (or the text itself, parsed by the C++ core) for a time argument."""
    if value is None or isinstance(value, (str, int)) and not isinstance(value, bool):
        return value
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date, np.datetime64)):
        try:
            ts = pd.Timestamp(value)
        except (ValueError, OverflowError) as e:
            raise ValueError(f"{name}: {value!r} is outside 1677-09-21 .. 2262-04-11: {e}") from None
        if ts is pd.NaT:
            raise ValueError(f"{name}: NaT is not a time")
        if ts.tzinfo is None:
            ts = ts.tz_localize("UTC")  # naive times are UTC, as everywhere in tickflow
        return int(ts.value)
    raise TypeError(f"{name}: expected None, epoch nanoseconds, ISO-8601 text, a datetime or a pandas Timestamp; "
                    f"got {type(value).__name__}")


def to_timedelta_ns(value, name):
    """Nanoseconds of a duration: pandas/str ("30D", "12h"), datetime.timedelta or int nanoseconds."""
    if isinstance(value, bool):
        raise TypeError(f"{name}: expected a duration, got a bool")
    if isinstance(value, int):
        return value
    try:
        return int(pd.Timedelta(value).value)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{name}: {value!r} is not a duration such as '30D' or '12h': {e}") from None


def utc(values):
    """datetime64[ns] values (UTC by convention) as a tz-aware array, without a copy.

    pd.to_datetime(values, utc=True) takes ~0.3 s per million values here; wrapping the buffer takes none."""
    values = np.asarray(values)
    if values.dtype == np.dtype("datetime64[ns]"):
        return pd.arrays.DatetimeArray(values, dtype=pd.DatetimeTZDtype(tz="UTC"))
    return pd.to_datetime(values, utc=True)
