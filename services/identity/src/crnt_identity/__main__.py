"""``python -m crnt_identity``: identity in the foreground, configured by the environment."""

from crnt_shared.runtime import serve

from crnt_identity.app import create_app
from crnt_identity.settings import IdentitySettings


def main() -> None:
    settings = IdentitySettings()  # from the environment
    serve(lambda: create_app(settings), settings)


if __name__ == "__main__":
    main()
