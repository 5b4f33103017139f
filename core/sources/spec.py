"""``SourceSpec``: everything the rest of the code knows of one external system."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from core.delta.errors import LOCAL_SOURCE
from core.delta.fields import FIELD_TYPES
from core.delta.mapping import EntityMapping, WireSchema
from core.errors import ConfigError, InvalidRequest
from core.sources.connector import ConnectorFactory

#: A source's key is written into SQL and URLs as it is: lower-case letters, digits and "_",
#: at most 16 characters (the width of the ``sync_type`` and ``source`` columns).
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,15}")

#: Later: tells whether a webhook delivery is authentic, from its headers, its body and the
#: connector's webhook secret.
WebhookVerifier = Callable[[Mapping[str, str], bytes, str], bool]


@dataclass(frozen=True)
class CredentialField:
    """One value a connector signs in with; ``secret`` ones are kept out of every log line."""

    name: str
    label: str
    secret: bool = True


OptionKind = Literal["choice", "flag", "text"]


@dataclass(frozen=True)
class SourceOption:
    """A setting a connector takes beside its credentials, shown by the Connectors page.

    ``kind`` says how it is entered: a ``choice`` among ``choices`` (Odoo's protocol), a
    ``flag`` (on or off) or a line of ``text`` (Odoo's companies); ``help`` says what it does.
    """

    name: str
    label: str
    choices: Mapping[str, str] = field(default_factory=dict)  # value -> what the user reads
    default: str | bool = ""
    kind: OptionKind = "choice"
    help: str = ""
    placeholder: str = ""

    @classmethod
    def flag(cls, name: str, label: str, help: str = "") -> SourceOption:
        """An on/off setting, off unless set."""
        return cls(name, label, default=False, kind="flag", help=help)

    @classmethod
    def text(
        cls, name: str, label: str, *, default: str = "", help: str = "", placeholder: str = ""
    ) -> SourceOption:
        """A setting typed as a line of text."""
        return cls(name, label, default=default, kind="text", help=help, placeholder=placeholder)

    def value(self, raw: Any) -> str | bool:
        """``raw`` (as a form or a command line gives it) as this option's value; the
        default for None; ``InvalidRequest`` for a value it cannot take."""
        if raw is None:
            return self.default
        if self.kind == "flag":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("", "0", "false", "no", "off"):
                return False
            raise InvalidRequest(f"{self.label}: say yes or no (not {raw!r}).")
        text = str(raw).strip()
        if self.kind == "choice" and text not in self.choices:
            raise InvalidRequest(
                f"{self.label} must be one of: {', '.join(self.choices)} (not {text!r})."
            )
        return text


@dataclass(frozen=True, eq=False)
class SourceSpec:
    """One external system: who it is, how to connect to it, how its records read.

    A spec is also the engine's ``RecordFormat`` of the source (``key``, ``label``,
    ``id_key``, ``mappings``, ``wire_schemas``).
    """

    key: str  # the sync_type of connectors, previews, the API and the CLI
    label: str  # "WooCommerce", as people read it
    icon: str
    connector: ConnectorFactory  # imports the HTTP client only when called
    credentials: tuple[CredentialField, ...]
    mappings: Mapping[str, EntityMapping]  # entity -> canonical field -> where it comes from
    id_key: str = "id"  # the key of a wire record's id
    # entity -> wire fields of its JSON pages, for the columnar reader (optional, for speed)
    wire_schemas: Mapping[str, WireSchema] = field(default_factory=dict)
    options: tuple[SourceOption, ...] = ()
    url_example: str = "https://example.com"
    # entity -> canonical field -> stored code -> the word people read ("sale" -> "Sales
    # order"); a code not listed is shown as it is
    value_words: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    # Room for what later issues add; a source that offers it says so here.
    incremental: bool = False  # its connector's iter_pages honours ``since``
    verify_webhook: WebhookVerifier | None = None

    @property
    def title(self) -> str:
        """Icon and label: "🛒 WooCommerce"."""
        return f"{self.icon} {self.label}"

    def option_values(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """``options`` with this source's options checked and in their own types (others are
        kept as they are: the demo's own); ``InvalidRequest`` for a value one cannot take."""
        known = {option.name: option for option in self.options}
        return {
            name: known[name].value(value) if name in known else value
            for name, value in options.items()
        }

    def word_for(self, entity_type: str, field_name: str, code: str) -> str | None:
        """The word people read for a stored code of a field ("Sales order"), or None."""
        return self.value_words.get(entity_type, {}).get(field_name, {}).get(code)

    def secrets_of(self, credentials: Mapping[str, str]) -> list[str]:
        """The values of the secret credential fields among ``credentials``."""
        return [credentials[f.name] for f in self.credentials if f.secret and f.name in credentials]

    def check(self) -> None:
        """Raise ``ConfigError`` unless the spec is complete (checked when registered)."""
        if not KEY_PATTERN.fullmatch(self.key) or self.key == LOCAL_SOURCE:
            raise ConfigError(
                f"A source's key must be 1 to 16 lower-case letters, digits and '_' (not "
                f"{LOCAL_SOURCE!r}); {self.key!r} is not."
            )
        for entity, types in FIELD_TYPES.items():
            mapped = self.mappings.get(entity)
            if mapped is None or set(mapped) != set(types):
                missing = sorted(set(types) - set(mapped or {}))
                extra = sorted(set(mapped or {}) - set(types))
                raise ConfigError(
                    f"The {self.label} source must map every {entity} field once "
                    f"(missing: {', '.join(missing) or 'none'}; unknown: "
                    f"{', '.join(extra) or 'none'})."
                )
