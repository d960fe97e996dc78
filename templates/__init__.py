"""The office's bulletin templates (简报.docx, 通报.xlsx), installed as ``zdxm_xl.templates``.

They are edited in Word and Excel; see docs/简报与通报.md. This file only makes the folder an
importable package, so an installed zdxm finds the templates with importlib.resources.
"""
