"""OpenAPI helpers of the budget service."""


def answer_example(example: object) -> dict:
    """A 200 answer's example, for operations with nothing else to copy (no body, no
    parameter): the contract wants something to copy for every operation."""
    return {200: {"content": {"application/json": {"example": example}}}}
