"""Every URL pattern the project serves, from the resolver itself (never a hand list)."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    template: str  # "/me/orders/{pk}/", parameters in braces
    params: tuple[tuple[str, str], ...]  # (name, converter: int|uuid|str|slug|path|regex)
    name: str  # "dashboard:orders" or the view's dotted path
    callback: object

    def fill(self, values: dict[str, object]) -> str:
        return self.template.format(**{k: values[k] for k, _ in self.params})

    @property
    def path_prefix(self) -> str:
        return self.template.split("{", 1)[0]


def _regex_to_template(regex: str) -> tuple[str, list[tuple[str, str]]]:
    regex = regex.lstrip("^").rstrip("$").replace("\\Z", "")
    out, params, i = [], [], 0
    while i < len(regex):
        if regex.startswith("(?P<", i):
            end_name = regex.index(">", i)
            name = regex[i + 4 : end_name]
            depth, j = 1, end_name + 1
            while depth:
                depth += {"(": 1, ")": -1}.get(regex[j], 0) if regex[j - 1] != "\\" else 0
                j += 1
            out.append("{" + name + "}")
            params.append((name, "regex"))
            i = j
        elif regex[i] == "\\" and i + 1 < len(regex):
            out.append(regex[i + 1])
            i += 2
        else:
            out.append(regex[i])
            i += 1
    return "".join(out), params


def _piece(pattern) -> tuple[str, list[tuple[str, str]]]:
    if isinstance(pattern, RoutePattern):
        route = str(pattern._route)
        params = []

        def sub(match):
            params.append((match["name"], match["converter"] or "str"))
            return "{" + match["name"] + "}"

        return _ROUTE_PARAM.sub(sub, route), params
    if isinstance(pattern, RegexPattern):
        return _regex_to_template(pattern._regex)
    raise TypeError(f"unknown pattern type {type(pattern)}")


def all_routes(resolver=None, prefix="/", params=(), namespace="") -> list[Route]:
    resolver = resolver or get_resolver()
    routes = []
    for entry in resolver.url_patterns:
        piece, piece_params = _piece(entry.pattern)
        template = prefix + piece
        merged = tuple(params) + tuple(piece_params)
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            routes += all_routes(entry, template, merged, ns)
        elif isinstance(entry, URLPattern):
            callback = entry.callback
            name = (
                f"{namespace}{entry.name}"
                if entry.name
                else f"{callback.__module__}.{getattr(callback, '__qualname__', callback)}"
            )
            routes.append(Route(template, merged, name, callback))
    return routes
