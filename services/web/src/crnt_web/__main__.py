"""``python -m crnt_web``: the web front end in the foreground, configured by the environment."""

import uvicorn

from crnt_web.app import create_app
from crnt_web.settings import WebSettings


def main() -> None:
    settings = WebSettings()  # from the environment
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
