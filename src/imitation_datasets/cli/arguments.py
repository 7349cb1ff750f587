"""Command-line arguments generated from frozen option dataclasses: the one way to build a parser.

Each field of an options dataclass becomes one argument of a subcommand:

* a field without a default is positional (a ``tuple[X, ...]`` one takes one or more
  values); every other field is ``--<name-with-dashes>`` (or the
  spelling given in ``flags``);
* ``bool`` fields are switches: ``--flag`` sets a ``False`` default to ``True``; a ``True``
  default is turned off by its ``flags`` spelling (``--quiet``, ``--no-npz``) or ``--no-<name>``;
* ``Literal[...]`` gives the choices, ``tuple[X, ...]`` a comma-separated list, ``X | None``
  accepts ``none`` (or ``off``) for ``None``; ``int``, ``float``, ``str`` and ``Path`` convert;
* the help text is the field's ``metadata["help"]``, followed by its default;
* each value is checked by building the dataclass with it (its ``__post_init__`` rules), so a
  bad value is refused by the parser, naming the argument, before any work.

Errors are one line, ``il-datasets <command>: error: argument --x: <reason>``, exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar, Union, get_args, get_origin

from imitation_datasets.core.config import from_mapping
from imitation_datasets.core.errors import ConfigError

T = TypeVar("T")
NONE_WORDS = ("none", "off")
"""What an optional (``X | None``) argument accepts for ``None``."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (exit status 2), without usage."""

    def error(self, message: str) -> NoReturn:
        """Print ``<prog>: error: <message>`` as one line and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")


@dataclass(frozen=True)
class Options:
    """One options dataclass of a command and how its fields are spelled on the command line."""

    cls: type
    flags: Mapping[str, str] = field(default_factory=dict)
    """Field -> flag, where the flag is not ``--<field-name>``."""
    skip: Collection[str] = ()
    """Fields that are not arguments (they keep their defaults)."""
    aliases: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Field -> further spellings accepted (old names), shown in ``--help``."""

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        """Add one argument per field of :attr:`cls` to ``parser``."""
        hints = typing.get_type_hints(self.cls)
        for f in dataclasses.fields(self.cls):
            if f.name not in self.skip and f.init:
                _add_argument(parser, self, f, hints[f.name])

    def build(self, args: argparse.Namespace, where: str) -> Any:
        """The dataclass filled from parsed ``args`` (checked by ``core.config.from_mapping``)."""
        values = {f.name: getattr(args, f.name) for f in dataclasses.fields(self.cls)
                  if f.name not in self.skip and f.init}
        return from_mapping(self.cls, values, where)


@dataclass(frozen=True)
class Command:
    """A subcommand: its options and the function that runs it.

    ``run(*built_options, argv=argv)`` returns the exit status; ``target(*built_options)`` is
    the path the command writes or reads, named in an ``OSError`` message that names none.
    """

    name: str
    help: str
    options: tuple[Options, ...]
    run: Callable[..., int]
    target: Callable[..., Path | None] = lambda *options: None

    def add_to(self, subparsers: Any) -> None:
        """Add this command's parser, its arguments generated from :attr:`options`."""
        parser = subparsers.add_parser(self.name, help=self.help, description=self.help)
        for options in self.options:
            options.add_to(parser)

    def build(self, args: argparse.Namespace) -> list[Any]:
        """The command's options dataclasses, filled from parsed ``args``."""
        return [o.build(args, f"il-datasets {self.name}") for o in self.options]


def _add_argument(parser: argparse.ArgumentParser, options: Options, f: dataclasses.Field[Any],
                  hint: Any) -> None:
    text = str(f.metadata.get("help", ""))
    has_default = f.default is not dataclasses.MISSING or \
        f.default_factory is not dataclasses.MISSING
    default: Any = f.default
    if f.default_factory is not dataclasses.MISSING:
        default = f.default_factory()
    if not has_default and get_origin(hint) is tuple:  # one or more positional values
        parser.add_argument(f.name, nargs="+", type=_parser(get_args(hint)[0]), help=text,
                            metavar=f.name.upper())
        return
    if not has_default:
        parser.add_argument(f.name, type=_converter(options.cls, f.name, hint),
                            help=text, metavar=f.name.upper())
        return
    names = [options.flags.get(f.name, "--" + f.name.replace("_", "-")),
             *options.aliases.get(f.name, ())]
    if hint is bool:
        if default:
            if f.name not in options.flags:
                names[0] = "--no-" + f.name.replace("_", "-")
            parser.add_argument(*names, dest=f.name, action="store_false", default=True,
                                help=f"do not {text}" if text else None)
        else:
            parser.add_argument(*names, dest=f.name, action="store_true", help=text or None)
        return
    choices = _choices(hint)
    shown = "" if default is None else f" (default: {_show(default)})"
    metavar = names[0].lstrip("-").replace("-", "_").upper()
    parser.add_argument(*names, dest=f.name, default=default,
                        type=_converter(options.cls, f.name, hint), choices=choices,
                        metavar=None if choices else metavar, help=text + shown)


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def _choices(hint: Any) -> tuple[Any, ...] | None:
    if get_origin(hint) is Literal:
        return get_args(hint)
    return None


def _converter(cls: type, name: str, hint: Any) -> Callable[[str], Any]:
    """A ``type=`` function: text -> the field's type, checked by the dataclass's own rules."""
    parse = _parser(hint)

    def convert(text: str) -> Any:
        value = parse(text)
        _check(cls, name, value)
        return value

    convert.__name__ = getattr(parse, "__name__", "value")  # argparse: "invalid int value"
    return convert


def _parser(hint: Any) -> Callable[[str], Any]:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"unsupported option type {hint}")
        inner = _parser(options[0])

        def optional(text: str) -> Any:
            return None if text.strip().lower() in NONE_WORDS else inner(text)

        optional.__name__ = getattr(inner, "__name__", "value")
        return optional
    if origin is Literal:
        kinds = {type(v) for v in get_args(hint)}
        if len(kinds) != 1:
            raise TypeError(f"unsupported option type {hint}")
        return _parser(kinds.pop())
    if origin is tuple:
        args = get_args(hint)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise TypeError(f"unsupported option type {hint}")
        item = _parser(args[0])

        def items(text: str) -> tuple[Any, ...]:
            return tuple(item(part.strip()) for part in text.split(",") if part.strip())

        items.__name__ = "comma-separated list"
        return items
    if hint in (int, float, str, Path):
        return typing.cast(Callable[[str], Any], hint)
    raise TypeError(f"unsupported option type {hint}")


def _check(cls: type, name: str, value: Any) -> None:
    """Build ``cls`` with ``value`` for ``name`` (other fields at their defaults)."""
    required = [f.name for f in dataclasses.fields(cls) if f.init and f.name != name
                and f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING]
    if required:
        return  # checked when the whole dataclass is built
    try:
        from_mapping(cls, {name: value}, name)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{name}: ")) from None


def build_parser(prog: str, description: str, commands: Sequence[Command]
                 ) -> argparse.ArgumentParser:
    """One parser with a subcommand per :class:`Command`."""
    parser = OneLineParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in commands:
        command.add_to(sub)
    return parser
