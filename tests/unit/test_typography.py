"""French typography: one filter for every page and mail."""

import pytest
from crnt_shared import typography

N, NN = "\u00a0", "\u202f"  # no-break space, narrow no-break space


@pytest.mark.parametrize(
    ("written", "printed"),
    [
        ("Adresse : 1 rue Carnot", f"Adresse{NN}: 1 rue Carnot"),
        ("Bonjour !", f"Bonjour{NN}!"),
        ("Bonjour!", f"Bonjour{NN}!"),
        ("Vraiment ?", f"Vraiment{NN}?"),
        ("un ; deux", f"un{NN}; deux"),
        ("« Centre social »", f"«{NN}Centre social{NN}»"),
        ("«Centre»", f"«{NN}Centre{NN}»"),
        ("1 234,56 €", f"1{NN}234,56{N}€"),
        ("12 000 000 €", f"12{NN}000{NN}000{N}€"),
        ("30000,00 €", f"30000,00{N}€"),
        ("40 %", f"40{NN}%"),
        ("à 14h30", f"à 14{N}h{N}30"),
        ("à 14 h 05", f"à 14{N}h{N}05"),
        ("de 9 h à 12 h.", f"de 9{N}h à 12{N}h."),
    ],
)
def test_text(written: str, printed: str) -> None:
    assert typography.text(written) == printed
    assert typography.text(printed) == printed  # idempotent


@pytest.mark.parametrize(
    "untouched",
    [
        "http://127.0.0.1:8000/connexion/lien?jeton=abc",
        "en 2026 123 lieux",  # a year then a count: not thousands
        "12:30",
        "mailto:agence@example.org",
    ],
)
def test_text_leaves_what_is_not_prose(untouched: str) -> None:
    assert typography.text(untouched) == untouched


def test_html_changes_text_only() -> None:
    markup = (
        '<p title="a : b">Adresse :</p><a href="/x?y=1">Lien !</a>'
        "<script>a ? b : c</script><textarea>x : y</textarea><pre>p : q</pre>"
        "<p>R &amp; D ; l&#39;agence : oui</p><!-- note : ici -->"
    )
    assert typography.html(markup) == (
        f'<p title="a : b">Adresse{NN}:</p><a href="/x?y=1">Lien{NN}!</a>'
        "<script>a ? b : c</script><textarea>x : y</textarea><pre>p : q</pre>"
        f"<p>R &amp; D{NN}; l&#39;agence{NN}: oui</p><!-- note : ici -->"
    )
    assert typography.html(typography.html(markup)) == typography.html(markup)
