"""Exceptions are for unusable setup and the program's own failures; data problems are issues."""

from __future__ import annotations

from tongji.i18n import chosen, t


class TongjiError(Exception):
    """A setup or usage problem the user must fix (exit code 2). Carries a message key and its parameters; the
    message is made when shown, in the language of the run. A parameter named in `blank` reads （空）/(blank)
    when empty."""

    exit_code = 2

    def __init__(self, key: str, *, blank: tuple[str, ...] = (), **kw: object):
        self.key, self.kw, self.blank = key, kw, blank
        super().__init__(key)

    def __str__(self) -> str:
        return self.text()

    def text(self, language: str | None = None) -> str:
        """The message in `language` ("zh" or "en"; by default the run's): a page says it in the page's."""
        return t(self.key, language, **{k: t("blank", language) if k in self.blank and v in (None, "") else v
                                        for k, v in self.kw.items()})


class PluginError(TongjiError):
    """An error a plugin raises with its own message (Chinese, and English for --lang en): the user sees it as
    one line naming the plugin, exit code 2, never a traceback.

        raise PluginError("区划代码表缺少 330106", "The area table lacks 330106")
    """

    def __init__(self, message: str, message_en: str = ""):
        super().__init__("plugin-error", message=message)
        self.message, self.message_en = str(message), str(message_en)
        self.plugin: str | None = None  # set by the host: which plugin raised it

    def text(self, language: str | None = None) -> str:
        said = self.message_en if chosen(language) == "en" and self.message_en else self.message
        return t("plugin-said", language, name=self.plugin, message=said) if self.plugin else said
