"""Participation counts that must add up: the rule every activity and training follows."""

from __future__ import annotations

from shared.problems import Problem, field_error


def require_counts_add_up(
    *, total_field: str, total: int, female_field: str, female: int, male_field: str, male: int,
    subgroups: dict[str, int] | None = None,
) -> None:  # fmt: skip
    """Women and men together no more than the total (the rest are of another sex), and no
    subgroup larger than the total: a 422 naming every field that breaks it."""
    errors = []
    if female + male > total:
        reason = f"{female_field} + {male_field} ({female + male}) exceeds {total_field} ({total})"
        errors.append(field_error([female_field], reason))
    for name, value in (subgroups or {}).items():
        if value > total:
            errors.append(field_error([name], f"{value} is more than {total_field} ({total})"))
    if errors:
        fields = ", ".join(e.field for e in errors)
        raise Problem(422, f"Invalid fields: {fields}.", errors=errors)
