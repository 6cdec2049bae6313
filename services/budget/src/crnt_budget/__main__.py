"""``python -m crnt_budget``: the budget in the foreground, configured by the environment."""

from crnt_shared.runtime import serve

from crnt_budget.app import create_app
from crnt_budget.settings import BudgetSettings


def main() -> None:
    settings = BudgetSettings()  # from the environment
    serve(lambda: create_app(settings), settings)


if __name__ == "__main__":
    main()
