"""A plugin with a misspelt hook name: pm.check_pending() must catch it."""

from tongji.plugin import hookimpl


@hookimpl
def register_froms(register):
    register({"extend": "JH", "rows": []})
