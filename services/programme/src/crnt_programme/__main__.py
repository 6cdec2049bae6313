"""``python -m crnt_programme``: the programme in the foreground, configured by the environment."""

from crnt_shared.runtime import serve

from crnt_programme.app import create_app
from crnt_programme.settings import ProgrammeSettings


def main() -> None:
    settings = ProgrammeSettings()  # from the environment
    serve(lambda: create_app(settings), settings)


if __name__ == "__main__":
    main()
