"""A Python plugin adding a CLI command and an output format."""

from tongji.plugin import hookimpl, write_bytes


@hookimpl
def register_commands(app):
    @app.command("hello")
    def hello(name: str = "街道") -> None:
        """打个招呼"""
        print(f"你好，{name}")


@hookimpl
def register_output_formats(register):
    def write_txt(summary, out_dir, spec):
        return [write_bytes(out_dir / f"{summary.unit}.txt", f"{summary.name} {summary.total('HY03')}".encode())]

    register("txt", write_txt, "纯文本")
