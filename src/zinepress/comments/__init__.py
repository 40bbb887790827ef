"""Reader comments: ``comments.md`` read and written (``text``, ``book``), and the importers.

``text`` and ``book`` are what a build needs; ``importer`` and its format readers
(``wordpress``, ``disqus``, ``staticman``, ``remark42``, ``mastodon``, ``pasted``) serve
``zinepress comments import`` only and are never loaded by a build.
"""
