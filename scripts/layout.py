#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check that #include arrows run one way between the tree's layers:

    framework  <-  host-kvm  <-  actors  <-  tools

A file may include headers of its own layer or of a lower one, never of a
higher one (host-kvm, the /dev/kvm layer, sits below the actors that use
it). <actorvm/...> is the framework's public API; a "quoted" header is
looked up next to the including file, then anywhere in the four layers by
its path; headers found in none (system, generated) are not counted.
Usage: layout.py [SOURCE_ROOT]. Exit 1 listing every arrow against the
order, 0 otherwise."""
import os
import re
import sys

LAYERS = ['framework', 'host-kvm', 'actors', 'tools']
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of(root, path):
    top = os.path.relpath(path, root).split(os.sep)[0]
    return LAYERS.index(top) if top in LAYERS else None


def sources(root):
    for layer in LAYERS:
        for d, _, files in os.walk(os.path.join(root, layer)):
            for f in files:
                if f.endswith(('.c', '.h')):
                    yield os.path.join(d, f)


def target_layer(root, src, kind, name, by_path):
    if kind == '<':
        return 0 if name.startswith('actorvm/') else None
    here = os.path.join(os.path.dirname(src), name)
    if os.path.isfile(here):
        return layer_of(root, here)
    found = [layer_of(root, p) for p in by_path.get(os.path.basename(name), [])
             if p.endswith(os.sep + name)]
    # A name in several layers: the lowest, the reading that forbids least.
    return min(found) if found else None


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else '.')
    files = list(sources(root))
    by_path = {}
    for p in files:
        by_path.setdefault(os.path.basename(p), []).append(p)
    bad = 0
    for src in files:
        mine = layer_of(root, src)
        with open(src, encoding='utf-8', errors='replace') as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                theirs = target_layer(root, src, m.group(1), m.group(2),
                                      by_path)
                if theirs is not None and theirs > mine:
                    bad += 1
                    print('%s:%d: includes %s (%s/): an arrow against %s' %
                          (os.path.relpath(src, root), n, m.group(2),
                           LAYERS[theirs], ' <- '.join(LAYERS)))
    print('layout: %d files, %d arrows against the order' % (len(files), bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
