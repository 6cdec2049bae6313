"""The API's refusals, read once: the sentence and each field's message, in French."""

import httpx
from crnt_web.backend import ApiError, french_message


def test_problem_fields_are_keyed_like_the_form() -> None:
    response = httpx.Response(
        422,
        json={
            "detail": "The request is not valid.",
            "errors": [
                {"field": "centre.nom", "message": "String should have at least 1 character"},
                {
                    "field": "body.animators.0.email",
                    "message": "value is not a valid email address: x",
                },
            ],
        },
        headers={"content-type": "application/problem+json"},
    )
    error = ApiError.of(response)
    assert error.status == 422
    assert error.fields == {
        "centre.nom": "Ce champ est obligatoire.",
        "animators.0.email": "Cette adresse électronique n’est pas valide.",
    }


def test_a_refusal_without_a_body_still_has_a_sentence() -> None:
    error = ApiError.of(httpx.Response(409, text="not json"))
    assert error.detail == "Conflict"
    assert error.fields == {}


def test_unknown_messages_are_kept_as_the_api_says_them() -> None:
    assert french_message("Input should be greater than or equal to 0") == "Saisissez au moins 0."
    assert french_message("something else entirely") == "something else entirely"
