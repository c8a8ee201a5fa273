"""`python -m tongji`: the `tongji` command where its script is not on PATH (a Windows office PC whose Python
Scripts folder is not on it, a virtual environment not activated)."""

# guarded: a worker process (spawned, as tongji starts them) imports this module again under another name, and
# must not run the command again
if __name__ == "__main__":
    from tongji.cli import main

    main()
