"""``RenderedBook`` → the laid-out print edition: the only part of zinepress that runs WeasyPrint.

``weasy`` holds every WeasyPrint internal the layout touches; ``parts`` splits the print
HTML (pure lxml); ``schedule`` places laid-out parts in the book (pure); ``layout`` lays
one part out; ``workers`` runs the parts in forked workers or in this process;
``partcache`` keeps parts between builds; ``join`` makes one tagged PDF of the parts;
``book`` runs it all.
"""
