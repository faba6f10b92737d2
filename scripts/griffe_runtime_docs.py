"""griffe extension for the documentation site (mkdocs.yml): the docstrings of threadkit._core.

griffe reads the extension module ``threadkit._core`` through its stub
(``python/threadkit/_core.pyi``), which gives the signatures and annotations but few docstrings.
The compiled module has them all: PyO3 exports each Rust doc comment of the bindings as
``__doc__``, which is what ``help()`` shows a user. This extension imports the installed module
(``make docs`` installs the wheel into the docs venv) and gives every object of ``_core`` its
runtime docstring, keeping the stub's where the module has none.

It also drops the reStructuredText roles some docstrings use (``:mod:`threading```), which
Markdown would print as they are: the name stays, as code.
"""

import importlib
import inspect
import re

import griffe

_MODULE = "threadkit._core"
_ROLE = re.compile(r":(?:py:)?(?:mod|class|func|meth|attr|exc|data|obj):(`[^`]+`)")


def _markdown(text):
    return _ROLE.sub(r"\1", text)


class RuntimeDocstrings(griffe.Extension):
    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = _markdown(obj.docstring.value)

    def on_package(self, *, pkg, loader, **kwargs):
        if pkg.name != "threadkit":
            return
        runtime = importlib.import_module(_MODULE)
        self._fill(pkg["_core"], runtime)

    def _fill(self, obj, value):
        doc = value.__doc__ if (inspect.isclass(value) or callable(value)
                                or inspect.isdatadescriptor(value)) else None
        # What a class or method without a docstring of its own shows is `object`'s ("Initialize
        # self.  See help(type(self))..."): not ours.
        generic = object if inspect.isclass(value) else getattr(object, obj.name, None)
        if doc and doc != getattr(generic, "__doc__", None):
            obj.docstring = griffe.Docstring(_markdown(inspect.cleandoc(doc)), parent=obj)
        if obj.kind in (griffe.Kind.MODULE, griffe.Kind.CLASS):
            for name, member in obj.members.items():
                if member.is_alias:
                    # The classes whose __module__ is "threadkit" (Lock, RLock, Event...) are
                    # seen as aliases of threadkit.Lock...; their target is the stub's class.
                    try:
                        member = member.final_target
                    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
                        continue
                    if not member.path.startswith(_MODULE + "."):
                        continue
                sub = inspect.getattr_static(value, name, None)
                if isinstance(sub, (staticmethod, classmethod)):
                    sub = sub.__func__
                if sub is not None:
                    self._fill(member, sub)
