"""Finding, loading and asking plugins; the built-in forms, rules, indicators and writers are plugin `tongji`.

Plugins come from the `tongji` entry-point group (pip-installed packages) and from a plugins folder
(`--plugins-dir` or TONGJI_PLUGINS_DIR) holding declarative .toml files, .py modules, packages, or
pip-style project folders. TONGJI_LOAD_PLUGINS=a,b loads only those. A plugin that fails to load is
recorded with its error; commands that need the forms refuse to run with it, `tongji plugins` shows it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pluggy

from tongji.definitions.builder import BUILTIN, SpecBuilder
from tongji.definitions.forms import Check, Spec
from tongji.errors import TongjiError
from tongji.i18n import t
from tongji.plugins import hookspecs
from tongji.plugins.calling import Writer, command_name, guarded, guarded_command
from tongji.plugins.loading import (
    GROUP,
    Loader,
    Parts,
    as_plugin,
    import_file,
    import_from_project,
    load_error,
    project_entry_points,
)
from tongji.plugins.toml_plugin import DeclarativePlugin


@dataclass
class PluginInfo:
    name: str
    source: str
    registered: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None


class Host:
    """One plugin manager and what its plugins registered."""

    def __init__(self, plugins_dir: str | Path | None = None, entry_points: bool | None = None,
                 only: str | None = None, environment: bool = True):
        """`environment=False` ignores TONGJI_PLUGINS_DIR, TONGJI_LOAD_PLUGINS and TONGJI_ENTRY_POINTS
        (tongji.testing: a plugin's test must not depend on the machine it runs on)."""
        env = os.environ if environment else {}
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.owner: dict[str, str] = {}  # pluggy's name of each registered part → the plugin it belongs to
        self.only = {n.strip() for n in (only if only is not None else env.get("TONGJI_LOAD_PLUGINS", ""))
                     .split(",") if n.strip()}
        from tongji.plugins import builtin

        self._add(BUILTIN, builtin.plugin(), "内置")
        if entry_points if entry_points is not None else env.get("TONGJI_ENTRY_POINTS", "1") != "0":
            self._entry_points()
        folder = plugins_dir or env.get("TONGJI_PLUGINS_DIR")
        if folder:
            self._folder(Path(folder))
        for name in sorted(self.only - set(self.infos)):  # misspelt, it would leave the local rules out unsaid
            self.infos[name] = PluginInfo(name, "TONGJI_LOAD_PLUGINS", error=t("plugin-not-found", name=name))

    # --- loading -------------------------------------------------------------------------------

    def add(self, name: str, plugin, source: str = "") -> None:
        """Register a plugin object by hand (a test, an embedding application); errors are recorded."""
        self._add(name, as_plugin(plugin), source or name)
        self.__dict__.pop("spec", None)
        self.__dict__.pop("writers", None)

    def _wanted(self, name: str) -> bool:
        return not self.only or name in self.only

    def _add(self, name: str, load, source: str) -> None:
        """Register one plugin; `load` is the plugin object or a function that imports it."""
        if not self._wanted(name) and name != BUILTIN:
            return
        if name in self.infos:
            self.infos[f"{name}（{source}）"] = PluginInfo(name, source, error=t("plugin-duplicate-name", name=name))
            return
        info = self.infos[name] = PluginInfo(name, source)
        try:
            plugin = load() if isinstance(load, Loader) else load
            # a package with hooks and .toml files is two parts to pluggy (one object cannot implement a hook
            # twice), one plugin to everyone else: registrations, errors and `tongji plugins` use `name`
            for i, part in enumerate(plugin.parts if isinstance(plugin, Parts) else [plugin]):
                key = name if i == 0 else f"{name}#{i}"
                self.owner[key] = name
                self.pm.register(part, name=key)
            self.pm.check_pending()  # a misspelt hook name fails here, loudly
        except pluggy.PluginValidationError as exc:
            self._drop(name)
            info.error = t("plugin-bad-hook", detail=str(exc).splitlines()[0])
        except TongjiError as exc:  # a declarative file's syntax: its own message names the file and line
            self._drop(name)
            info.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - any plugin failure is reported by name, not raised
            self._drop(name)
            info.error = load_error(exc)

    def _drop(self, name: str) -> None:
        for key in [k for k, owner in self.owner.items() if owner == name]:
            plugin = self.pm.get_plugin(key)
            if plugin is not None:
                self.pm.unregister(plugin)
            del self.owner[key]

    def _entry_points(self) -> None:
        for ep in sorted(importlib.metadata.entry_points(group=GROUP), key=lambda e: e.name):
            self._add(ep.name, Loader(lambda ep=ep: as_plugin(ep.load())), f"入口点 {ep.value}")

    def _folder(self, folder: Path) -> None:
        if not folder.is_dir():  # a plugin's own file, given for its folder, is there: not "not found"
            raise TongjiError("plugins-dir-file" if folder.exists() else "plugins-dir-missing", path=folder)
        for path in sorted(folder.iterdir()):
            if not path.name.startswith((".", "_")):
                self.add_path(path)

    def add_path(self, path: Path) -> None:
        """One entry of a plugins folder: a .toml or .py file, a package folder, a pip-style project folder."""
        path = Path(path)
        if path.suffix == ".toml":
            self._add(path.stem, Loader(lambda p=path: DeclarativePlugin(p)), f"文件 {path}")
        elif path.suffix == ".py":
            self._add(path.stem, Loader(lambda p=path: import_file(p)), f"文件 {path}")
        elif (path / "__init__.py").exists():
            self._add(path.name, Loader(lambda p=path: import_file(p / "__init__.py", p.name)), f"文件夹 {path}")
        elif (path / "pyproject.toml").exists():
            for name, value in project_entry_points(path):
                self._add(name, Loader(lambda p=path, v=value: import_from_project(p, v)), f"项目 {path}")
        self.__dict__.pop("spec", None)
        self.__dict__.pop("writers", None)

    @property
    def errors(self) -> dict[str, str]:
        return {n: i.error for n, i in self.infos.items() if i.error}

    def require_healthy(self) -> None:
        """Commands that use the forms refuse to run without a plugin the user asked for."""
        if self.errors:
            name, error = next(iter(self.errors.items()))
            raise TongjiError("plugin-broken", name=name, error=error)

    # --- asking --------------------------------------------------------------------------------

    def _call(self, hook: str, make_register: Callable[[str], Callable], survey: bool = False) -> None:
        """Call one hook through pluggy, plugin by plugin in pluggy's order (tryfirst/trylast; the built-in
        plugin is tryfirst), each with its own `register`, so that every registration is attributed. In a
        survey a plugin's failure marks it failed and the next plugin is asked."""
        for name, caller, function in self._callers(hook):
            try:
                guarded(name, hook, lambda register, c=caller: c(register=register),
                        {"register": make_register(name)}, own=function)
            except TongjiError as exc:
                if not survey:
                    raise
                self.infos[name].error = self.infos[name].error or str(exc)

    def _callers(self, hook: str) -> list[tuple[str, Callable, Callable]]:
        """(plugin name, a pluggy hook caller of that plugin alone, the plugin's function implementing the hook),
        in call order: argument subsetting and the plugin's own hook wrappers apply as in `pm.hook.NAME(...)`."""
        impls = getattr(self.pm.hook, hook).get_hookimpls()
        # tryfirst before the others, trylast after; otherwise in load order (pluggy alone would call the
        # plugin loaded last first, and two regions' new sheets would come out in reverse)
        rank = sorted(range(len(impls)), key=lambda i: (-impls[i].tryfirst + impls[i].trylast, i))
        functions: dict[str, Callable] = {}  # each plugin's first implementation called: where its lines are
        for i in rank:
            functions.setdefault(impls[i].plugin_name, impls[i].function)
        everyone = dict(self.pm.list_name_plugin())
        return [(self.owner.get(name, name),
                 _unwarned(self.pm.subset_hook_caller(hook, [p for n, p in everyone.items() if n != name and p])),
                 function)
                for name, function in functions.items()]

    def _note(self, plugin: str, kind: str, what: str) -> None:
        self.infos[plugin].registered.setdefault(kind, []).append(what)

    @cached_property
    def spec(self) -> Spec:
        self.require_healthy()
        builder = SpecBuilder()
        from tongji.plugins import builtin

        builder.meta |= builtin.plugin().meta()
        try:
            for hook, make in self._registers(builder):
                self._call(hook, make)
            spec = builder.build()
        except TongjiError as exc:
            self._blame(exc)
            raise
        spec.writers = self.writers
        return spec

    def survey(self) -> None:
        """What each plugin registers, for `tongji plugins` when the spec cannot be built: every hook is asked of
        each loaded plugin on its own, so that one plugin failing (at import, in a hook) neither hides what the
        others and the built-in register nor keeps them from being asked. A plugin failing here is marked so."""
        for info in self.infos.values():  # a half-built spec noted some; commands were noted as they were added
            info.registered = {k: v for k, v in info.registered.items() if k == "命令"}
        found: dict[str, Writer] = {}  # two plugins' formats of one name: the second is marked failed
        for hook, make in [*self._registers(SpecBuilder()), ("register_output_formats", self._writer(found))]:
            self._call(hook, make, survey=True)

    def _registers(self, builder: SpecBuilder) -> list[tuple[str, Callable]]:
        """Each hook that builds the spec and, for a plugin's name, the `register` it is given: what it adds
        goes into `builder` and is noted as the plugin's."""
        def forms(plugin):
            def register(form: dict) -> None:
                item = dict(form, _plugin=plugin, _where=form.get("_where", f"{plugin}:0"))
                if "concordance" in item:
                    builder.concordances.append(item)
                    self._note(plugin, "模板版本", str(item.get("version")))
                elif "extend" in item:
                    item["form"] = item.pop("extend")
                    builder.extends.append(item)
                    rows = item.get("rows") if isinstance(item.get("rows"), list) else []  # the builder says why
                    for r in rows:
                        self._note(plugin, "指标行", f"{item['form']}.{r.get('code') if isinstance(r, dict) else r}")
                else:
                    builder.forms.append(item)
                    self._note(plugin, "表", f"{item.get('id')} {item.get('sheet', '')}")
            return register

        def items(target: list, kind: str):
            def make(plugin):
                def register(item: dict) -> None:
                    target.append(dict(item, _plugin=plugin, _where=item.get("_where", f"{plugin}:0")))
                    self._note(plugin, kind, str(item.get("id")))
                return register
            return make

        def config(plugin):
            def register(name: str, value: float) -> None:
                builder.add_config(name, value, plugin)
                self._note(plugin, "配置", f"{name}={value}")
            return register

        def checks(plugin):
            def register(id: str, check: Callable, severity: str = "错误", message: str = "",  # noqa: A002
                         message_en: str = "", scope: str = "全部") -> None:
                builder.checks.append(Check(id, check, severity, message, message_en, scope, plugin))
                self._note(plugin, "检查", id)
            return register

        return [("register_forms", forms), ("register_rules", items(builder.rules, "审核关系")),
                ("register_indicators", items(builder.indicators, "派生指标")),
                ("register_groupings", items(builder.groupings, "分组")),
                ("register_peer_ratios", items(builder.peer_ratios, "同类比较")),
                ("register_config", config), ("register_checks", checks)]

    def _blame(self, exc: TongjiError) -> None:
        """A declarative file's mistake or a clash marks the plugin that made it as failed in `tongji plugins`."""
        name = getattr(exc, "plugin", None) or exc.kw.get("name")
        if name in self.infos and name != BUILTIN:
            self.infos[name].error = str(exc)

    @cached_property
    def writers(self) -> dict[str, Writer]:
        self.require_healthy()
        found: dict[str, Writer] = {}
        self._call("register_output_formats", self._writer(found))
        return found

    def _writer(self, found: dict[str, Writer]) -> Callable:
        def make(plugin):
            def register(name: str, writer: Callable, description: str = "") -> None:
                if name in found:
                    first = found[name].plugin
                    raise TongjiError("plugin-conflict", what=f"输出格式 {name}", first=first, second=plugin)
                found[name] = Writer(name, writer, plugin, description)
                self._note(plugin, "输出格式", name)
            return register
        return make

    def add_commands(self, app) -> None:
        """Each plugin's commands. A name already taken (a built-in command, another plugin's) is refused and the
        plugin shown failed; a command's own failure is the plugin's error, named, as a writer's is."""
        owners = {command_name(c): BUILTIN for c in app.registered_commands}
        owners |= {g.name: BUILTIN for g in app.registered_groups}
        for name, caller, _ in self._callers("register_commands"):
            start = len(app.registered_commands)
            try:
                caller(app=app)
                added = app.registered_commands[start:]
                for command in added:
                    taken = owners.get(command_name(command))
                    if taken:
                        raise TongjiError("plugin-command-taken", command=command_name(command), owner=taken,
                                          name=name)
                    owners[command_name(command)] = name
                    command.callback = guarded_command(name, command_name(command), command.callback)
            except Exception as exc:  # noqa: BLE001 - a plugin's broken command must not take the CLI down
                del app.registered_commands[start:]  # none of a failed plugin's commands stays
                self.infos[name].error = str(exc) if isinstance(exc, TongjiError) else load_error(exc)  # its line
                continue
            self.infos[name].registered.setdefault("命令", []).extend(command_name(c) for c in added)


def _unwarned(caller: Callable) -> Callable:
    """A hook caller without pluggy's warning for an old-style hookwrapper raising in its teardown: the exception
    itself reaches the user as the plugin's error, and the warning (Python's English, tongji's line) would say
    it a second time."""

    def call(**kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pluggy.PluggyTeardownRaisedWarning)
            return caller(**kwargs)
    return call


_host: Host | None = None


def host() -> Host:
    global _host
    if _host is None:
        _host = Host()
    return _host


def configure(plugins_dir: str | Path | None = None, entry_points: bool | None = None,
              only: str | None = None) -> Host:
    """Start over with these settings (the CLI's --plugins-dir; tests)."""
    global _host
    _host = Host(plugins_dir, entry_points, only)
    return _host


def load_spec() -> Spec:
    """The default spec: the forms, rules, indicators, checks and writers of the built-in schemas and of the
    plugins configured with `tongji.plugins.configure()` (the CLI's --plugins-dir) or, without that, of the
    environment (entry points, TONGJI_PLUGINS_DIR). A library call given `spec=` uses that one only."""
    return host().spec
