"""Exceptions are for unusable setup and the program's own failures; data problems are issues."""

from __future__ import annotations

from tongji.i18n import t


class TongjiError(Exception):
    """A setup or usage problem the user must fix (exit code 2). Carries a message key."""

    exit_code = 2

    def __init__(self, key: str, **kw: object):
        self.key, self.kw = key, kw
        super().__init__(key)

    def __str__(self) -> str:
        return t(self.key, **self.kw)


class PluginError(TongjiError):
    """An error a plugin raises with its own message (Chinese, and English for --lang en): the user sees it as
    one line naming the plugin, exit code 2, never a traceback.

        raise PluginError("区划代码表缺少 330106", "The area table lacks 330106")
    """

    def __init__(self, message: str, message_en: str = ""):
        super().__init__("plugin-error", message=message)
        self.message, self.message_en = str(message), str(message_en)
        self.plugin: str | None = None  # set by the host: which plugin raised it

    def __str__(self) -> str:
        from tongji.i18n import lang

        text = self.message_en if lang() == "en" and self.message_en else self.message
        return t("plugin-said", name=self.plugin, message=text) if self.plugin else text
