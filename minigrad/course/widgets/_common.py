"""What the course's widgets share: the figure → SVG step, the text panel, and the display.

A widget of this package is a small class with

- its **state** (a dict of plain values, read from its controls by ``_state()``);
- its **controls** (ipywidgets sliders, buttons…) and a root box ``self.box`` holding them,
  an ``ipywidgets.HTML`` that shows the figure (``self.view``) and one that shows the
  numbers as text (``self.panel``);
- ``_figure(state)``: the matplotlib Figure of a state (object API, no pyplot), and
  ``_panel(state)``: its text.

``render()`` draws the current state as an SVG string; the controls' ``observe`` callbacks
put it in ``self.view``, so ``w.slider.value = 3`` in plain Python updates what is shown and a
test can read it without a kernel. In a notebook the widget's output carries two views of the
same thing: the live widget (JupyterLab) and a static SVG of its initial state with a stable
``text/plain`` (the printed book, and nbval).
"""
import html
import io

import ipywidgets as widgets
import matplotlib
import matplotlib.text

__all__ = ["CourseWidget", "to_svg", "panel_html"]


def to_svg(fig):
    """The SVG text of a matplotlib Figure (no date, fixed ids: the same state gives the same
    text), after which the figure is cleared, releasing its artists."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "minigrad"}):
        # "tight": a long title or a side text is not cut at the figure's edge
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    fig.clear()
    return buf.getvalue()


def _inline(svg):
    """An SVG document as an element to put inside HTML (without its XML prologue)."""
    return svg[svg.index("<svg"):]


def panel_html(lines):
    """Lines of text as the HTML of a text panel (escaped, monospace, kept as they are)."""
    body = html.escape("\n".join(lines))
    return f'<pre style="font-size: 12px; line-height: 1.3; margin: 0">{body}</pre>'


class CourseWidget:
    """The base of the course's widgets: subclasses define ``_state``, ``_figure``, ``_panel``
    and ``_summary``, build their controls, then call ``_finish(controls)``."""

    def _state(self):
        """The current state, read from the controls: a dict of plain values."""
        raise NotImplementedError

    def _figure(self, state):
        """The matplotlib Figure of ``state``."""
        raise NotImplementedError

    def _panel(self, state):
        """The lines of the text panel for ``state``."""
        raise NotImplementedError

    def _summary(self):
        """A short text that does not change from run to run (the output's text/plain)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ shared machinery
    def _finish(self, controls):
        """Build the view, the text panel and the root box below ``controls``; remember the
        initial state (for the static figure) and show it."""
        self.view = widgets.HTML()
        self.panel = widgets.HTML()
        self.box = widgets.VBox(list(controls) + [self.view, self.panel])
        self._initial = self._state()
        self._refresh()

    def render(self):
        """The current state drawn as an SVG string (what ``self.view`` shows)."""
        return to_svg(self._figure(self._state()))

    def _refresh(self, change=None):
        """Show the current state: figure and text panel. The controls' observe callback."""
        state = self._state()
        self.view.value = _inline(to_svg(self._figure(state)))
        self.panel.value = panel_html(self._panel(state))

    def _static_state(self):
        """The state the printed book shows: the initial one unless a widget says otherwise."""
        return self._initial

    def static_figure(self):
        """The matplotlib Figure the printed book shows (:meth:`_static_state`), with the text
        panel's lines beside it: a reader without a kernel sees the numbers too."""
        state = self._static_state()
        fig = self._figure(state)
        shown = {t.get_text() for t in fig.findobj(matplotlib.text.Text)}
        lines = [line for line in self._panel(state) if line not in shown]
        fig.text(1.02, 0.95, "\n".join(lines), ha="left", va="top", fontsize=8,
                 linespacing=1.4, transform=fig.transFigure)
        return fig

    def _repr_mimebundle_(self, **kwargs):
        """The live widget's bundle, plus the static SVG of the initial state and a stable
        text/plain (ipywidgets' own text/plain would list the controls' values)."""
        data = self.box._repr_mimebundle_(**kwargs)
        data = dict(data or {})
        data["image/svg+xml"] = to_svg(self.static_figure())
        data["text/plain"] = self._summary()
        return data
