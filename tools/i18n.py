#!/usr/bin/env python3
"""The translations of gites.calendar: extract, sync, compile, check.

Usage (from the top of the repository)::

    bin/python tools/i18n.py            # extract + sync + compile (the usual run)
    bin/python tools/i18n.py extract    # write locales/gites.calendar.pot
    bin/python tools/i18n.py sync       # merge the .pot into every .po
    bin/python tools/i18n.py compile    # .po -> .mo (the .mo files are not in git)
    bin/python tools/i18n.py check      # exit 1 if a catalogue lacks a msgid or a text

Message ids come from the package's page templates (``i18n:translate`` and
``i18n:attributes`` in the ``gites.calendar`` domain, parsed by zope.tal
as Zope does) and from its Python modules (calls of the ``_`` message
factory imported from ``gites.calendar``, read with :mod:`ast`).  The
default text of a message is French: French is the reference language, so
``sync`` writes every default into ``fr`` itself; ``nl``, ``de`` and ``en``
keep their translations, get the new msgids with an empty text (which
``check`` refuses) and lose the msgids no longer used.

Only the standard library, zope.tal and python-gettext (both installed with
Plone) are used.  See docs/i18n.rst.
"""

import ast
import dataclasses
import pathlib
import re
import sys

TOP = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = TOP / "src" / "gites" / "calendar"
LOCALES = PACKAGE / "locales"
DOMAIN = "gites.calendar"
REFERENCE = "fr"
LANGUAGES = ("fr", "nl", "de", "en")
LANGUAGE_NAMES = {"fr": "Français", "nl": "Nederlands", "de": "Deutsch", "en": "English"}
EXCLUDED_DIRS = {"tests", "locales", "__pycache__", "static"}
# Chameleon's tal:attributes="python-dict-expression" (one expression, no
# "name expr" pair), unknown to zope.tal; attributes carry no message, so
# the extractor drops them.
CHAMELEON_ATTRIBUTES = re.compile(r'\stal:attributes="[^"\s;]+"')


@dataclasses.dataclass
class Entry:
    msgid: str
    default: str | None = None
    locations: set = dataclasses.field(default_factory=set)
    msgstr: str = ""


class ExtractError(Exception):
    pass


# -- extraction -------------------------------------------------------------


def source_files(pattern):
    for path in sorted(PACKAGE.rglob(pattern)):
        if not EXCLUDED_DIRS.intersection(path.relative_to(PACKAGE).parts[:-1]):
            yield path


def _add(catalog, msgid, default, location):
    default = default if default and default != msgid else None
    entry = catalog.setdefault(msgid, Entry(msgid, default))
    if default is not None:
        if entry.default is None:
            entry.default = default
        elif entry.default != default:
            raise ExtractError(
                f"msgid {msgid!r} has two defaults: {entry.default!r} and {default!r}"
                f" ({', '.join(sorted(entry.locations | {location}))})"
            )
    entry.locations.add(location)


def template_messages(catalog):
    """Messages of the domain in every page template of the package."""
    from zope.tal.htmltalparser import HTMLTALParser
    from zope.tal.talgettext import POEngine, POTALInterpreter
    from zope.tal.talparser import TALParser

    class Devnull:
        def write(self, text):
            pass

    for path in source_files("*.pt"):
        engine = POEngine()
        engine.file = str(path)
        text = CHAMELEON_ATTRIBUTES.sub("", path.read_text(encoding="utf-8"))
        parser = TALParser() if text.startswith("<?xml") else HTMLTALParser()
        try:
            parser.parseString(text)
            program, macros = parser.getCode()
            POTALInterpreter(program, macros, engine, stream=Devnull(), metal=False)()
        except Exception as error:
            raise ExtractError(f"{path.relative_to(TOP)}: {error}") from None
        location = str(path.relative_to(PACKAGE))
        for msgid in engine.catalog.get(DOMAIN, {}):
            _add(catalog, str(msgid), msgid.default, location)
        stray = [str(m) for domain, ids in engine.catalog.items() if domain != DOMAIN for m in ids]
        if stray:
            raise ExtractError(
                f"{location}: messages outside the {DOMAIN} domain (set i18n:domain): {stray}"
            )


def _imports_message_factory(tree):
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "gites.calendar"
        and any(alias.name == "_" and alias.asname in (None, "_") for alias in node.names)
        for node in ast.walk(tree)
    ) or any(  # the package's own __init__ defines it
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "_" for t in node.targets)
        for node in tree.body
    )


def python_messages(catalog):
    """Messages built with ``_("msgid", default="...")`` in the package's modules."""
    for path in source_files("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        if not _imports_message_factory(tree):
            continue
        location = str(path.relative_to(PACKAGE))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "_"
                and node.args
            ):
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                raise ExtractError(f"{location}:{node.lineno}: _() needs a literal msgid")
            default = None
            for keyword in node.keywords:
                if keyword.arg == "default":
                    if not (
                        isinstance(keyword.value, ast.Constant)
                        and isinstance(keyword.value.value, str)
                    ):
                        raise ExtractError(f"{location}:{node.lineno}: default must be a literal")
                    default = keyword.value.value
            _add(catalog, first.value, default, location)


def extract():
    """{msgid: Entry} of every message of the domain used by the package."""
    catalog = {}
    template_messages(catalog)
    python_messages(catalog)
    return dict(sorted(catalog.items()))


# -- the .po format ---------------------------------------------------------


def quote(text):
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    )
    return f'"{escaped}"'


def unquote(token):
    body = token.strip()
    if not (body.startswith('"') and body.endswith('"')):
        raise ValueError(f"not a quoted string: {token!r}")
    out, chars = [], iter(body[1:-1])
    for char in chars:
        if char == "\\":
            nxt = next(chars, "")
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
        else:
            out.append(char)
    return "".join(out)


def header(language):
    lines = [
        "Project-Id-Version: gites.calendar",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "Plural-Forms: nplurals=2; plural=(n != 1);",
        f"Domain: {DOMAIN}",
    ]
    if language:
        lines += [
            f"Language: {language}",
            f"Language-Code: {language}",
            f"Language-Name: {LANGUAGE_NAMES[language]}",
            "Preferred-Encodings: utf-8",
        ]
    return [quote(line + "\n") for line in lines]


def write_catalog(path, entries, language=None):
    """Write a .pot (language None) or .po file; entries sorted by msgid."""
    out = [
        f"# Translations of {DOMAIN}"
        + (f" ({LANGUAGE_NAMES[language]})." if language else " (template)."),
        "# Generated by tools/i18n.py: edit only the msgstr lines"
        + (" of this file." if language and language != REFERENCE else "; run it to update."),
        'msgid ""',
        'msgstr ""',
        *header(language),
        "",
    ]
    for entry in sorted(entries.values(), key=lambda e: e.msgid):
        if entry.default is not None:
            out.append(f"#. Default: {quote(entry.default)}")
        for location in sorted(entry.locations):
            out.append(f"#: {location}")
        out.append(f"msgid {quote(entry.msgid)}")
        out.append(f"msgstr {quote(entry.msgstr if language else '')}")
        out.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")


def read_catalog(path):
    """{msgid: Entry} of a .po/.pot file (the header entry left out)."""
    entries = {}
    current, field = None, None

    def finish():
        if current is not None and current.msgid:
            entries[current.msgid] = current

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        try:
            if not line:
                continue
            if line.startswith("#. Default: "):
                finish()
                current, field = Entry(""), None
                current.default = unquote(line[len("#. Default: ") :])
            elif line.startswith("#: "):
                if current is None or field is not None:
                    finish()
                    current, field = Entry(""), None
                current.locations.add(line[3:])
            elif line.startswith("#"):
                continue
            elif line.startswith("msgid "):
                if current is None or field is not None:
                    finish()
                    current = Entry("")
                current.msgid, field = unquote(line[6:]), "msgid"
            elif line.startswith("msgstr "):
                current.msgstr, field = unquote(line[7:]), "msgstr"
            elif line.startswith('"') and field:
                setattr(current, field, getattr(current, field) + unquote(line))
            else:
                raise ValueError(f"unexpected line {line!r}")
        except (ValueError, AttributeError) as error:
            raise ExtractError(f"{path}:{number}: {error}") from None
    finish()
    return entries


# -- commands ---------------------------------------------------------------


def pot_path():
    return LOCALES / f"{DOMAIN}.pot"


def po_path(language):
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language):
    return po_path(language).with_suffix(".mo")


def cmd_extract():
    catalog = extract()
    write_catalog(pot_path(), catalog)
    print(f"{pot_path().relative_to(TOP)}: {len(catalog)} msgids")
    return catalog


def cmd_sync(catalog=None):
    template = catalog if catalog is not None else read_catalog(pot_path())
    for language in LANGUAGES:
        path = po_path(language)
        old = read_catalog(path) if path.exists() else {}
        merged = {}
        for msgid, entry in template.items():
            new = Entry(msgid, entry.default, set(entry.locations))
            if language == REFERENCE and entry.default is not None:
                new.msgstr = entry.default
            elif msgid in old:
                new.msgstr = old[msgid].msgstr
            merged[msgid] = new
        write_catalog(path, merged, language)
        dropped = sorted(set(old) - set(merged))
        missing = sorted(m for m, e in merged.items() if not e.msgstr)
        print(
            f"{path.relative_to(TOP)}: {len(merged)} msgids"
            + (f", dropped {len(dropped)} unused: {', '.join(dropped)}" if dropped else "")
            + (f", {len(missing)} to translate: {', '.join(missing)}" if missing else "")
        )


def cmd_compile():
    from pythongettext.msgfmt import Msgfmt

    for language in LANGUAGES:
        path = po_path(language)
        with path.open("rb") as po:
            data = Msgfmt(po, name=DOMAIN).get()
        mo_path(language).write_bytes(data)
        print(f"{mo_path(language).relative_to(TOP)} compiled")


def problems():
    """What is wrong with the catalogues: [one line per problem]."""
    catalog = extract()
    found = []
    for language in LANGUAGES:
        path = po_path(language)
        if not path.exists():
            found.append(f"{language}: {path.relative_to(TOP)} is missing")
            continue
        entries = read_catalog(path)
        for msgid, entry in catalog.items():
            if msgid not in entries:
                found.append(f"{language}: msgid {msgid!r} is missing")
            elif not entries[msgid].msgstr.strip():
                found.append(f"{language}: msgid {msgid!r} is not translated")
            elif language == REFERENCE and entry.default not in (None, entries[msgid].msgstr):
                found.append(f"{language}: msgid {msgid!r} differs from its default text")
    return found


def cmd_check():
    found = problems()
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print("run: bin/python tools/i18n.py, then translate the empty msgstr", file=sys.stderr)
        return 1
    print("catalogues complete")
    return 0


def main(argv):
    command = argv[0] if argv else "all"
    try:
        if command == "extract":
            cmd_extract()
        elif command == "sync":
            cmd_sync()
        elif command == "compile":
            cmd_compile()
        elif command == "check":
            return cmd_check()
        elif command == "all":
            cmd_sync(cmd_extract())
            cmd_compile()
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except ExtractError as error:
        print(f"i18n: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
