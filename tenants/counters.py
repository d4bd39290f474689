"""Totals that only grow, shared by every process, exported to Prometheus as counters."""

from django.db import IntegrityError, transaction
from django.db.models import F

from tenants.models import Counter


def series_name(metric: str, labels: dict[str, str] | None = None) -> str:
    """``metric{key="value",...}``: the Prometheus series a counter row is exported as."""
    if not labels:
        return metric
    inner = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


def counter_increment(*, metric: str, labels: dict[str, str] | None = None, by: int = 1) -> None:
    """Add to a shared total; one UPDATE, or an INSERT the first time."""
    if by <= 0:
        return
    name = series_name(metric, labels)
    if not Counter.objects.filter(name=name).update(value=F("value") + by):
        try:
            with transaction.atomic():
                Counter.objects.create(name=name, value=by)
        except IntegrityError:  # created meanwhile by another process
            Counter.objects.filter(name=name).update(value=F("value") + by)
