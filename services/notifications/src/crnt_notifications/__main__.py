"""``python -m crnt_notifications``: the service in the foreground, configured by the
environment."""

from crnt_shared.runtime import serve

from crnt_notifications.app import create_app
from crnt_notifications.settings import NotificationsSettings


def main() -> None:
    settings = NotificationsSettings()  # from the environment
    serve(lambda: create_app(settings), settings)


if __name__ == "__main__":
    main()
