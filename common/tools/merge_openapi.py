#!/usr/bin/python3
"""Merge the services' API documents into the ONE public document of motcua.

Usage: merge_openapi.py api-spec/public.yaml OUTPUT.json [--depfile FILE]

api-spec/public.yaml holds the document's own `info`, `servers` and
`security`, and the list of service documents that make up the public API
(`x-motcua-services`, one line per service). Each of them is bundled as the
service bundles its own /openapi.json (common/tools/embed_openapi.py: the
shared components of common.yaml are inlined), then everything is put into
one document. The merge refuses (exit 1, every conflict listed) instead of
guessing when two documents disagree:

* a path, or an operationId, present in two documents;
* a component (schema, response, parameter, header, ...) or a tag of the
  same name defined differently (the same definition, e.g. one inlined from
  common.yaml, is kept once).

A service's document-wide `security` is copied into each of its operations
that has none, so that merging never changes who may call what. The gateway
serves the result at /openapi.json (deploy/gateway/routes.conf).
Needs Debian's python3-yaml (hence /usr/bin/python3).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from embed_openapi import bundle, load  # noqa: E402

METHODS = ('get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace')
OWN_KEYS = ('openapi', 'info', 'jsonSchemaDialect', 'servers', 'security', 'externalDocs')


def merge(index_path):
    """The merged document and the list of conflicts (empty when it merged)."""
    index = load(index_path)
    here = os.path.dirname(os.path.abspath(index_path))
    merged = {k: index[k] for k in OWN_KEYS if k in index}
    merged.update(tags=[], paths={}, components={})
    conflicts = []
    tag_owner, path_owner, op_owner, comp_owner = {}, {}, {}, {}

    for name in index.get('x-motcua-services') or []:
        path = os.path.join(here, name)
        doc = bundle(load(path), path)
        default_security = doc.get('security')

        for tag in doc.get('tags') or []:
            seen = tag_owner.get(tag['name'])
            if seen is None:
                tag_owner[tag['name']] = (name, tag)
                merged['tags'].append(tag)
            elif seen[1] != tag:
                conflicts.append(f'tag {tag["name"]!r}: {seen[0]} and {name} differ')

        for template, item in (doc.get('paths') or {}).items():
            if template in path_owner:
                conflicts.append(f'path {template}: in {path_owner[template]} and {name}')
                continue
            path_owner[template] = name
            for method in METHODS:
                op = item.get(method)
                if op is None:
                    continue
                if 'security' not in op and default_security is not None:
                    op['security'] = default_security
                op_id = op.get('operationId')
                if op_id in op_owner:
                    conflicts.append(f'operationId {op_id}: in {op_owner[op_id]} and {name}')
                elif op_id is not None:
                    op_owner[op_id] = name
            merged['paths'][template] = item

        for section, entries in (doc.get('components') or {}).items():
            target = merged['components'].setdefault(section, {})
            for comp, value in entries.items():
                key = (section, comp)
                if key not in comp_owner:
                    comp_owner[key] = name
                    target[comp] = value
                elif target[comp] != value:
                    conflicts.append(f'components/{section}/{comp}: {comp_owner[key]} and {name} differ')
    return merged, conflicts


def write_depfile(path, output, index_path):
    """A Makefile rule naming every file the output depends on (for the build): the
    index, this tool, and every document next to the index (the services' documents
    and the components they refer to)."""
    here = os.path.dirname(os.path.abspath(index_path))
    deps = [os.path.abspath(__file__), os.path.join(os.path.dirname(os.path.abspath(__file__)), 'embed_openapi.py')]
    deps += sorted(os.path.join(here, n) for n in os.listdir(here) if n.endswith(('.yaml', '.yml')))
    with open(path, 'w', encoding='utf-8') as f:
        f.write(output.replace(' ', '\\ ') + ': ' + ' '.join(d.replace(' ', '\\ ') for d in deps) + '\n')


def main():
    args = sys.argv[1:]
    depfile = None
    if len(args) == 4 and args[2] == '--depfile':
        depfile = args[3]
        args = args[:2]
    if len(args) != 2:
        print(__doc__.split('\n\n')[1], file=sys.stderr)
        return 2
    merged, conflicts = merge(args[0])
    if conflicts:
        for c in conflicts:
            print(f'merge_openapi: {c}', file=sys.stderr)
        return 1
    text = json.dumps(merged, ensure_ascii=False, indent=1, default=str)
    tmp = args[1] + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text + '\n')
    os.replace(tmp, args[1])
    if depfile is not None:
        write_depfile(depfile, args[1], args[0])
    return 0


if __name__ == '__main__':
    sys.exit(main())
