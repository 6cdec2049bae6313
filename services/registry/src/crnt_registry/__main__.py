"""``python -m crnt_registry``: the registry in the foreground, configured by the environment."""

from crnt_shared.runtime import serve

from crnt_registry.app import create_app
from crnt_registry.settings import RegistrySettings


def main() -> None:
    settings = RegistrySettings()  # from the environment
    serve(lambda: create_app(settings), settings)


if __name__ == "__main__":
    main()
