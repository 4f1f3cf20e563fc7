"""Backpropagation by hand: a scalar autodiff engine, a numpy MLP, and a gradient check.

Three parts, each small enough to read in one sitting:

* :class:`Value`, a scalar that remembers how it was computed.  Every operation makes a
  new node holding its inputs and a local backward rule; ``loss.backward()`` visits the
  nodes in reverse topological order and applies the chain rule,
  ``input.grad += local_derivative * output.grad``.  :func:`graph_layout` places the
  nodes of an expression for :func:`course_lib.plots.computational_graph`.
* A vectorised multi-layer perceptron, :class:`MLP`, built from layer functions that
  each come as a ``forward`` and a ``backward``: :func:`dense`, :func:`sigmoid`,
  :func:`tanh`, :func:`relu`, :func:`softmax_cross_entropy`, :func:`mean_squared_error`.
  Parameters use Keras's layout: one ``{"kernel": (in, out), "bias": (out,)}`` dict per
  ``Dense`` layer, so they can be copied into a Keras model with ``set_weights``.
* :func:`gradient_check`: central differences, and the relative error per tensor.
"""

import math
import numbers
from typing import Any, NamedTuple

import numpy as np

from .core import as_param_tree, check_int, check_number, check_same_structure, tree_leaves, tree_map, tree_unflatten
from .initializers import glorot_uniform  # Keras's default kernel initializer, kept here for lesson 06

__all__ = [
    "Value", "topological_order", "graph_layout", "GraphLayout",
    "dense", "dense_backward", "sigmoid", "sigmoid_backward", "tanh", "tanh_backward",
    "relu", "relu_backward", "linear", "linear_backward", "softmax",
    "softmax_cross_entropy", "softmax_cross_entropy_backward",
    "mean_squared_error", "mean_squared_error_backward", "ACTIVATIONS", "LOSSES",
    "MLP", "glorot_uniform", "accuracy",
    "numerical_gradient", "relative_error", "gradient_check", "GradientCheck",
]


# =========================================================================== scalar engine
def _as_value(x):
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return Value(x)
    return NotImplemented


class Value:
    """A scalar node of a computational graph: its ``data``, and ``grad`` = d(output)/d(this).

    ``Value(2.0, label="a")`` makes a leaf.  Arithmetic with other Values or plain numbers
    (``+ - * / **`` and the methods ``exp log tanh relu sigmoid``) makes new nodes that
    record their inputs (``parents``), the operation (``op``) and how to pass a gradient
    back to their inputs.  ``out.backward()`` fills ``grad`` for every node ``out``
    depends on.
    """

    def __init__(self, data, label="", parents=(), op=""):
        if isinstance(data, Value) or isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(f"`data` must be a real number; got {type(data).__name__} {data!r}.")
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self.parents = tuple(parents)
        self.op = op
        self._backward = lambda: None   # adds this node's grad into its parents' grads

    def __repr__(self):
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # ------------------------------------------------------------- binary operations
    def __add__(self, other):
        other = _as_value(other)
        if other is NotImplemented:
            return other
        out = Value(self.data + other.data, parents=(self, other), op="+")

        def backward():                    # d(a+b)/da = 1, d(a+b)/db = 1
            self.grad += out.grad
            other.grad += out.grad
        out._backward = backward
        return out

    def __sub__(self, other):
        other = _as_value(other)
        if other is NotImplemented:
            return other
        out = Value(self.data - other.data, parents=(self, other), op="-")

        def backward():                    # d(a-b)/da = 1, d(a-b)/db = -1
            self.grad += out.grad
            other.grad -= out.grad
        out._backward = backward
        return out

    def __mul__(self, other):
        other = _as_value(other)
        if other is NotImplemented:
            return other
        out = Value(self.data * other.data, parents=(self, other), op="*")

        def backward():                    # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = backward
        return out

    def __truediv__(self, other):
        other = _as_value(other)
        if other is NotImplemented:
            return other
        if other.data == 0:
            raise ZeroDivisionError(f"division by a Value whose data is 0 ({other!r}).")
        out = Value(self.data / other.data, parents=(self, other), op="/")

        def backward():                    # d(a/b)/da = 1/b, d(a/b)/db = -a/b**2
            self.grad += out.grad / other.data
            other.grad -= self.data / other.data ** 2 * out.grad
        out._backward = backward
        return out

    def __pow__(self, exponent):
        if isinstance(exponent, bool) or not isinstance(exponent, numbers.Real):
            raise TypeError(f"the exponent of a Value must be a plain number; got {type(exponent).__name__}.")
        exponent = float(exponent)
        if self.data == 0 and exponent < 0:
            raise ZeroDivisionError(f"0 to the power {exponent:g} is infinite.")
        if self.data < 0 and not exponent.is_integer():
            raise ValueError(f"a negative number ({self.data:g}) to the non-integer power {exponent:g} "
                             "is not a real number.")
        out = Value(self.data ** exponent, parents=(self,), op=f"**{exponent:g}")

        def backward():                    # d(a**n)/da = n * a**(n-1)
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
        out._backward = backward
        return out

    def __neg__(self):
        return self * -1.0

    def __radd__(self, other):
        other = _as_value(other)
        return other if other is NotImplemented else other + self

    def __rsub__(self, other):
        other = _as_value(other)
        return other if other is NotImplemented else other - self

    def __rmul__(self, other):
        other = _as_value(other)
        return other if other is NotImplemented else other * self

    def __rtruediv__(self, other):
        other = _as_value(other)
        return other if other is NotImplemented else other / self

    # ------------------------------------------------------------- unary operations
    def _unary(self, data, op, local):
        """A node ``op(self)`` whose local derivative is ``local(out_data)``."""
        out = Value(data, parents=(self,), op=op)

        def backward():
            self.grad += local(out.data) * out.grad
        out._backward = backward
        return out

    def exp(self):
        return self._unary(math.exp(self.data), "exp", lambda out: out)           # (e^a)' = e^a

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log needs a positive input; got {self.data:g}.")
        x = self.data
        return self._unary(math.log(x), "log", lambda out: 1.0 / x)              # (ln a)' = 1/a

    def tanh(self):
        return self._unary(math.tanh(self.data), "tanh", lambda out: 1.0 - out * out)  # 1 - tanh^2

    def sigmoid(self):
        x = self.data
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return self._unary(s, "sigmoid", lambda out: out * (1.0 - out))          # s (1 - s)

    def relu(self):
        positive = self.data > 0
        return self._unary(self.data if positive else 0.0, "relu", lambda out: 1.0 if positive else 0.0)

    # ------------------------------------------------------------- reverse mode
    def backward(self):
        """Set ``grad`` of every node this one depends on to d(self)/d(node).

        Gradients of the whole graph are reset first, so calling it twice gives the same
        result.  Nodes are visited in reverse topological order: a node passes its gradient
        back only after every node that uses it has added its share.
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def topological_order(root):
    """The nodes ``root`` depends on (itself included), every node after its inputs."""
    if not isinstance(root, Value):
        raise TypeError(f"`root` must be a Value; got {type(root).__name__}.")
    order, seen = [], set()
    stack = [(root, False)]
    while stack:                         # depth-first, without recursion limits
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in reversed(node.parents):
            if id(parent) not in seen:
                stack.append((parent, False))
    return order


class GraphLayout(NamedTuple):
    values: list    # one dict per Value: x, y, label, data, grad, node
    ops: list       # one dict per operation: x, y, op
    edges: list     # ((x0, y0), (x1, y1)) arrows, input -> operation -> output


def graph_layout(root):
    """Positions for drawing the graph of ``root``: inputs on the left, ``root`` on the right.

    A computed Value's column is the length of the longest path from an input to it; an input
    (a leaf) sits one column left of the first node that uses it, and each operation is drawn
    halfway between its inputs' column and its output.  Within a column nodes are stacked in
    the order a depth-first walk back from ``root`` meets them, which keeps edges short.
    """
    order = topological_order(root)
    depth = {}
    for node in order:
        depth[id(node)] = 1 + max((depth[id(p)] for p in node.parents), default=-1)
    users = {}
    for node in order:
        for p in node.parents:
            users.setdefault(id(p), []).append(node)
    for node in order:
        if not node.parents and id(node) in users:
            depth[id(node)] = min(depth[id(u)] for u in users[id(node)]) - 1
    rank, stack = {}, [root]
    while stack:                         # depth-first from the root: first input on top
        node = stack.pop()
        if id(node) in rank:
            continue
        rank[id(node)] = len(rank)
        stack.extend(reversed(node.parents))
    columns = {}
    for node in sorted(order, key=lambda n: rank[id(n)]):
        columns.setdefault(depth[id(node)], []).append(node)
    y = {id(node): (len(nodes) - 1) / 2 - i for nodes in columns.values() for i, node in enumerate(nodes)}
    values, ops, edges = [], [], []
    for node in order:
        x, yy = 2.0 * depth[id(node)], y[id(node)]
        values.append({"x": x, "y": yy, "label": node.label, "data": node.data, "grad": node.grad,
                       "node": node})
        if node.parents:
            ops.append({"x": x - 1.0, "y": yy, "op": node.op})
            edges.append(((x - 1.0, yy), (x, yy)))
            for p in node.parents:
                edges.append(((2.0 * depth[id(p)], y[id(p)]), (x - 1.0, yy)))
    return GraphLayout(values, ops, edges)


# =========================================================================== layers
# Each layer has a forward function and a backward function.  A backward function takes
# d_out = d loss / d (layer output), shaped like the output, plus whatever it needs from
# the forward pass, and returns d loss / d (layer input) (and the parameter gradients).

def dense(x, kernel, bias):
    """``x @ kernel + bias``, Keras's ``Dense`` without activation; x is (batch, in)."""
    return x @ kernel + bias


def dense_backward(d_out, x, kernel):
    """Gradients of a dense layer: ``(d_x, d_kernel, d_bias)``.

    ``d_kernel = x.T @ d_out`` has the kernel's shape (in, out): each example contributes
    the outer product of its input and its output gradient, and the batch sums them.
    ``d_bias = d_out.sum(axis=0)``: the bias is added to every example, so its gradient
    is the sum over the batch.  ``d_x = d_out @ kernel.T``.
    """
    return d_out @ kernel.T, x.T @ d_out, d_out.sum(axis=0)


def linear(z):
    """The identity (Keras's ``activation=None`` / ``"linear"``)."""
    return z


def linear_backward(d_out, out):
    return d_out


def sigmoid(z):
    """``1 / (1 + exp(-z))``, computed without overflow for large ``|z|``."""
    z = np.asarray(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


def sigmoid_backward(d_out, out):
    """``d_out * out * (1 - out)``: the derivative written with the layer's *output* ``out``."""
    return d_out * out * (1 - out)


def tanh(z):
    return np.tanh(z)


def tanh_backward(d_out, out):
    """``d_out * (1 - out**2)``, again in terms of the output."""
    return d_out * (1 - out * out)


def relu(z):
    return np.maximum(z, 0)


def relu_backward(d_out, out):
    """``d_out`` where the output is positive, 0 elsewhere (TensorFlow's choice at 0: 0)."""
    return d_out * (out > 0)


def softmax(logits):
    """Softmax over the last axis (the largest logit is subtracted first, to avoid overflow)."""
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _check_labels(labels, logits):
    labels = np.asarray(labels)
    if labels.shape != logits.shape[:-1] or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"`labels` must be integer class numbers of shape {logits.shape[:-1]}; "
                         f"got dtype {labels.dtype}, shape {labels.shape}.")
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[-1]):
        raise ValueError(f"`labels` must be in [0, {logits.shape[-1] - 1}]; got values from "
                         f"{labels.min()} to {labels.max()}.")
    return labels


def softmax_cross_entropy(labels, logits):
    """Mean over the batch of ``-log softmax(logits)[label]``.

    The twin of ``keras.losses.SparseCategoricalCrossentropy(from_logits=True)`` with its
    default reduction (the mean over the batch), i.e. of
    ``tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))``.
    """
    labels = _check_labels(labels, logits)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -np.mean(np.take_along_axis(log_probs, labels[..., None], axis=-1))


def softmax_cross_entropy_backward(labels, logits):
    """``(softmax(logits) - one_hot(labels)) / batch``: the loss is a mean, hence the division."""
    labels = _check_labels(labels, logits)
    d = softmax(logits)
    np.put_along_axis(d, labels[..., None], np.take_along_axis(d, labels[..., None], axis=-1) - 1, axis=-1)
    return d / logits.dtype.type(labels.size)


def mean_squared_error(y_true, y_pred):
    """Mean of ``(y_pred - y_true)**2`` over every element (Keras's ``"mean_squared_error"``)."""
    return np.mean((y_pred - y_true) ** 2)


def mean_squared_error_backward(y_true, y_pred):
    """``2 * (y_pred - y_true) / y_pred.size``."""
    return (y_pred - y_true) * (y_pred.dtype.type(2) / y_pred.dtype.type(y_pred.size))


ACTIVATIONS = {"linear": (linear, linear_backward), "sigmoid": (sigmoid, sigmoid_backward),
               "tanh": (tanh, tanh_backward), "relu": (relu, relu_backward)}
LOSSES = {"softmax_cross_entropy": (softmax_cross_entropy, softmax_cross_entropy_backward),
          "mean_squared_error": (mean_squared_error, mean_squared_error_backward)}


# =========================================================================== the network
def accuracy(labels, logits):
    """Fraction of examples whose largest output is the label."""
    return float(np.mean(np.argmax(logits, axis=-1) == np.asarray(labels)))


class MLP:
    """A stack of ``Dense`` layers, forward and backward written out layer by layer.

    ``units`` lists the layer widths, input first: ``MLP((2, 16, 16, 2))`` is the Keras model
    ``Sequential([Input((2,)), Dense(16, "tanh"), Dense(16, "tanh"), Dense(2)])``.
    ``activation`` (one name, or one per hidden layer) is applied after every hidden layer,
    ``output_activation`` after the last.  ``loss`` is ``"softmax_cross_entropy"`` (integer
    labels, the last layer's outputs are logits) or ``"mean_squared_error"``.

    Parameters are a list with one ``{"kernel", "bias"}`` dict per layer; gradients come
    back in the same structure, so they can go straight to ``SGD.step``.
    """

    def __init__(self, units, activation="tanh", output_activation="linear", loss="softmax_cross_entropy"):
        if isinstance(units, (str, bytes)) or not hasattr(units, "__len__") or len(units) < 2:
            raise ValueError("`units` must list at least two layer widths (input and output); "
                             f"got {units!r}.")
        self.units = tuple(check_int(f"units[{i}]", u, 1) for i, u in enumerate(units))
        hidden = len(self.units) - 2
        names = [activation] * hidden if isinstance(activation, str) else list(activation)
        if len(names) != hidden:
            raise ValueError(f"`activation` must be one name or one per hidden layer ({hidden}); "
                             f"got {activation!r}.")
        for name, value in [("activation", a) for a in names] + [("output_activation", output_activation)]:
            if value not in ACTIVATIONS:
                raise ValueError(f"`{name}` must be one of {sorted(ACTIVATIONS)}; got {value!r}.")
        if loss not in LOSSES:
            raise ValueError(f"`loss` must be one of {sorted(LOSSES)}; got {loss!r}.")
        if loss == "softmax_cross_entropy" and output_activation != "linear":
            raise ValueError("`output_activation` must be 'linear' with loss='softmax_cross_entropy': "
                             "the loss applies the softmax to the logits itself.")
        self.activations = tuple(names) + (output_activation,)
        self.loss_name = loss

    def __repr__(self):
        return (f"MLP(units={self.units}, activations={self.activations}, loss={self.loss_name!r})")

    def init(self, seed=0, dtype=np.float64):
        """Keras's default initial weights: Glorot-uniform kernels, zero biases (seeded numpy)."""
        rng = np.random.default_rng(check_int("seed", seed, 0))
        return [{"kernel": glorot_uniform(n_in, n_out, rng, dtype), "bias": np.zeros(n_out, dtype)}
                for n_in, n_out in zip(self.units[:-1], self.units[1:], strict=True)]

    def _check(self, params, x):
        params = as_param_tree("params", params)
        if not isinstance(params, list) or len(params) != len(self.units) - 1:
            raise ValueError(f"`params` must be a list of {len(self.units) - 1} dicts with 'kernel' "
                             "and 'bias' (see MLP.init).")
        for i, (p, n_in, n_out) in enumerate(zip(params, self.units[:-1], self.units[1:], strict=True)):
            if not isinstance(p, dict) or set(p) != {"kernel", "bias"}:
                raise ValueError(f"`params[{i}]` must be a dict with keys 'kernel' and 'bias'.")
            if p["kernel"].shape != (n_in, n_out) or p["bias"].shape != (n_out,):
                raise ValueError(f"`params[{i}]` must hold kernel {(n_in, n_out)} and bias {(n_out,)}; "
                                 f"got {p['kernel'].shape} and {p['bias'].shape}.")
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.units[0]:
            raise ValueError(f"`x` must have shape (batch, {self.units[0]}); got {x.shape}.")
        return params, x.astype(params[0]["kernel"].dtype, copy=False)

    def forward(self, params, x):
        """The network's output and the cache the backward pass needs (each layer's input and output)."""
        params, x = self._check(params, x)
        cache = []
        for p, name in zip(params, self.activations, strict=True):
            z = dense(x, p["kernel"], p["bias"])
            out = ACTIVATIONS[name][0](z)
            cache.append({"x": x, "out": out})
            x = out
        return x, cache

    def backward(self, params, cache, d_out):
        """Gradients of every kernel and bias, given ``d_out`` = d loss / d (network output).

        Walk the layers from last to first; each turns the gradient of its output into the
        gradient of its input, collecting its own kernel and bias gradients on the way.
        """
        grads = [None] * len(params)
        for i in reversed(range(len(params))):
            d_z = ACTIVATIONS[self.activations[i]][1](d_out, cache[i]["out"])
            d_out, d_kernel, d_bias = dense_backward(d_z, cache[i]["x"], params[i]["kernel"])
            grads[i] = {"kernel": d_kernel, "bias": d_bias}
        return grads

    def loss(self, params, x, y):
        out, _ = self.forward(params, x)
        return LOSSES[self.loss_name][0](y, out)

    def loss_and_grad(self, params, x, y):
        """``(loss, grads)`` on the batch ``x, y``: the signature :func:`course_lib.descent.fit` takes."""
        out, cache = self.forward(params, x)
        loss_fn, loss_backward = LOSSES[self.loss_name]
        y = np.asarray(y)
        if self.loss_name == "mean_squared_error":
            y = y.astype(out.dtype, copy=False)
        return loss_fn(y, out), self.backward(params, cache, loss_backward(y, out))

    def predict(self, params, x):
        return self.forward(params, x)[0]


# =========================================================================== gradient check
def numerical_gradient(f, params, epsilon=1e-6):
    """Central differences ``(f(w + eps) - f(w - eps)) / (2 eps)`` for every entry of ``params``.

    ``f(params) -> scalar``; ``params`` is an array or a tree of arrays, computed in float64.
    Calls ``f`` twice per parameter: this is what makes it slow for a real network.
    """
    epsilon = check_number("epsilon", epsilon, 0, None, low_open=True)
    params = tree_map(lambda a: a.astype(np.float64), as_param_tree("params", params))
    leaves = tree_leaves(params)
    result = []
    for leaf in leaves:
        g = np.zeros_like(leaf)
        flat, gflat = leaf.reshape(-1), g.reshape(-1)     # views into the leaf and into g
        for j in range(flat.size):
            saved = flat[j]
            flat[j] = saved + epsilon
            plus = float(f(params))
            flat[j] = saved - epsilon
            minus = float(f(params))
            flat[j] = saved
            gflat[j] = (plus - minus) / (2 * epsilon)
        result.append(g)
    return tree_unflatten(params, result)


def relative_error(a, b):
    """``|a - b| / (|a| + |b|)`` with Euclidean norms over the whole tensor (0 when both are 0)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


class GradientCheck(NamedTuple):
    errors: Any        # relative error per tensor, in the structure of params
    max_error: float
    passed: bool       # max_error <= tolerance
    message: str


def gradient_check(f, params, grads, epsilon=1e-6, tolerance=1e-6):
    """Compare ``grads`` with central differences of ``f``, tensor by tensor.

    In float64 correct gradients give relative errors around 1e-9 or less, a wrong one
    (a transpose, a missing factor) around 1e-1.  Float32 is too coarse for differences
    of size 1e-6, so everything is computed in float64.
    """
    tolerance = check_number("tolerance", tolerance, 0, None, low_open=True)
    params = as_param_tree("params", params)
    grads = as_param_tree("grads", grads)
    check_same_structure("grads", grads, params)
    numeric = numerical_gradient(f, params, epsilon)
    errors = tree_map(relative_error, grads, numeric)
    worst = max(tree_leaves(errors))
    passed = worst <= tolerance
    verdict = "passed" if passed else "FAILED"
    message = f"gradient check {verdict}: largest relative error {worst:.1e} (tolerance {tolerance:.0e})"
    return GradientCheck(errors, worst, passed, message)
