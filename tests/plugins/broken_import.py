"""A plugin whose import fails: reported by name, never a traceback."""

raise RuntimeError("数据库连不上")
