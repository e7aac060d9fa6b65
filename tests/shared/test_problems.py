"""Validation errors become problem documents that name the field a client must fix."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from shared.problems import _validation_problem


class Move(BaseModel):
    change_type: Literal["move"]


class Exit(BaseModel):
    change_type: Literal["exit"]


CHANGE = TypeAdapter(Annotated[Move | Exit, Field(discriminator="change_type")])


def problem_for(value: dict):
    try:
        CHANGE.validate_python(value)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        return _validation_problem(errors)
    raise AssertionError("expected a validation error")


def test_an_unknown_discriminator_value_names_the_discriminator_field():
    problem = problem_for({"change_type": "teleport"})
    assert problem.status == 422
    assert [e.field for e in problem.errors] == ["change_type"]
    assert "teleport" in problem.errors[0].reason


def test_a_missing_discriminator_names_the_discriminator_field():
    problem = problem_for({})
    assert [e.field for e in problem.errors] == ["change_type"]
