"""Subcommands that live in their own modules; each exposes add_parser(sub) for hyoka.cli."""
