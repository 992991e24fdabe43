"""The bottom layer: file and thread utilities every package uses, knowing nothing of the project.

Imports flow collectors -> extractors -> builders -> models; ``common`` sits below them all and
imports none of them (tests/test_layers.py checks it), so any module may use it.
"""
