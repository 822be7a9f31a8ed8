"""Process designers' pages under /designer: processes and rule sets with their versions, the
editor (bpmn-js, dmn-js, form schemas), version diffs and instance migration. Every page needs
a signed-in user holding the designer role; the editor's script calls /api/v1/designer."""

from . import views  # noqa: F401  (register their views on the blueprint)
