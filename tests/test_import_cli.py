"""`cnncalc import` as a user runs it: targets of every form, the written file, --check, --allow-uncounted,
and every bad target as a one-line error with the right exit code (never a traceback)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from clirunner import invoke, run_cli
from model_libraries import import_model_library

from cnncalc.engine.analysis import InputOverrides, analyze_file

torchvision = import_model_library("torchvision")

USER_MODELS = textwrap.dedent(
    """
    import torch
    from torch import nn
    import torch.nn.functional as F


    class Tiny(nn.Module):
        def __init__(self, width=8):
            super().__init__()
            self.stem = nn.Conv2d(3, width, 3, padding=1)
            self.blocks = nn.Sequential(*[Residual(width) for _ in range(3)])
            self.head = nn.Linear(width, 10)

        def forward(self, x):
            x = self.blocks(F.relu(self.stem(x)))
            return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


    class Residual(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.conv = nn.Conv2d(width, width, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(width)

        def forward(self, x):
            return F.relu(x + self.bn(self.conv(x)))


    class Rolling(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return torch.roll(self.conv(x), 1, dims=2).sum(dim=1)


    class Branching(nn.Module):
        # decides on a size in Python, as TensorFlow-style padding does: torch.fx alone cannot trace it
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            if x.shape[-1] % 2:
                x = F.pad(x, (0, 1, 0, 1))
            return F.adaptive_avg_pool2d(self.conv(x), 1)


    def make_tiny():
        return Tiny(width=4)


    instance = Tiny()
    not_a_model = 42


    class Broken(nn.Module):
        def __init__(self):
            raise ValueError("this model cannot be built")


    class Picky(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)

        def forward(self, x):
            return self.conv(x)
    """
)


@pytest.fixture
def models(tmp_path: Path) -> Path:
    path = tmp_path / "models.py"
    path.write_text(USER_MODELS)
    return path


def test_a_torchvision_model_is_written_to_a_file_and_analyzes_exactly(tmp_path):
    output = tmp_path / "resnet18.yaml"
    run = invoke("import", "torchvision:resnet18", "--input", "3x224x224", "--output", str(output))
    assert run.code == 0, run.output
    text = output.read_text()
    assert text.startswith("# resnet18, imported by cnncalc from PyTorch")
    assert "Target: torchvision:resnet18" in text and f"torchvision {torchvision.__version__}" in text
    result = analyze_file(output)
    assert (result.totals.params, result.totals.buffers, result.totals.macs) == (11_689_512, 9_600, 1_814_073_344)
    # layer names are the model's module paths: its state_dict keys name the same layers
    weights = {key.rpartition(".")[0] for key in torchvision.models.resnet18().state_dict()}
    assert weights == {row.path for row in result.layers if row.params or row.buffers}


def test_the_spec_reads_like_one_written_by_hand():
    run = invoke("import", "torchvision:resnet50", "-i", "3x224x224")
    assert run.code == 0, run.output
    text = run.stdout
    # one block for every bottleneck: the projection shortcut is optional (`when:`), what differs is an argument
    assert "  bottleneck:\n    args: {out: null, stride: null, conv3_out: null, downsample: null}\n" in text
    assert "{name: downsample, from: input, when: downsample, block: sequential" in text
    assert "{name: add, type: add, from: [bn3, downsample]}" in text
    # each stage is one repeat, its first block strided and projected
    assert (
        '{name: layer2, block: bottleneck, repeat: 4, args: {out: 128, stride: "2 if index == 0 else 1", '
        'conv3_out: 512, downsample: "index == 0"}}'
    ) in text
    assert text.count("type: conv2d") == 5  # 53 convolutions: the stem, three in the block, one in the shortcut


def test_check_compares_the_spec_with_the_model_layer_by_layer(tmp_path):
    output = tmp_path / "mobilenet.yaml"
    run = invoke("import", "torchvision:mobilenet_v3_small", "-i", "3x224x224", "--check", "-o", str(output))
    assert run.code == 0, run.output
    assert "OK: all 157 layers match PyTorch" in run.stdout
    assert "✓ total flops: engine 113,020,800, torch 113,020,800" in run.stdout


def test_check_goes_to_standard_error_when_the_spec_goes_to_standard_output():
    run = invoke("import", "torchvision:squeezenet1_1", "-i", "3x224x224", "--check")
    assert run.code == 0, run.output
    assert run.stdout.startswith("# squeezenet1_1") and "match PyTorch" not in run.stdout
    assert "OK: all" in run.stderr


def test_a_user_file_with_a_class_a_factory_and_an_instance(models, tmp_path):
    # Tiny(width): stem 3*w*9 + w, three residual blocks of w*w*9 + 2w, head w*10 + 10
    for attribute, params in (("Tiny", 2_090), ("make_tiny", 618), ("instance", 2_090)):
        output = tmp_path / f"{attribute}.yaml"
        run = invoke("import", f"{models}:{attribute}", "-i", "3x16x16", "-o", str(output))
        assert run.code == 0, run.output
        result = analyze_file(output, InputOverrides(shape=(3, 40, 24)))
        assert result.totals.params == params
        assert result.layers[-1].output_shape == (1, 10)
    spec = (tmp_path / "Tiny.yaml").read_text()
    # F.relu, F.adaptive_avg_pool2d and torch.flatten are calls in Tiny's forward, nn.Conv2d a module
    assert "{name: relu, type: relu, functional: true}" in spec
    assert "{name: adaptive_avg_pool2d, type: adaptive_avgpool2d, output_size: 1, functional: true}" in spec
    assert "{name: flatten, type: flatten, functional: true}" in spec
    assert "{name: stem, type: conv2d, out: 8, kernel: 3, padding: 1}" in spec


def test_a_model_that_branches_on_sizes_is_traced_with_them_fixed(models, tmp_path):
    output = tmp_path / "branching.yaml"
    run = invoke("import", f"{models}:Branching", "-i", "3x8x8", "--check", "-o", str(output))
    assert run.code == 0, run.output
    text = output.read_text()
    assert "  fixed: true" in text
    assert "OK: all 2 layers match PyTorch" in run.stdout
    refused = invoke("analyze", str(output), "--input", "3x9x9")
    assert refused.code == 1 and "holds at input 3x8x8 only" in refused.stderr
    assert invoke("analyze", str(output), "--batch", "4").code == 0  # the batch is free
    # at an odd size the branch pads: an operation with no kind, named, with its line
    odd = invoke("import", f"{models}:Branching", "-i", "3x9x9")
    assert odd.code == 1 and "torch.nn.functional.pad" in odd.stderr and "F.pad(x, (0, 1, 0, 1))" in odd.stderr


def test_constructor_arguments_pass_through(models):
    run = invoke("import", f"{models}:Tiny", "-i", "3x16x16", "--arg", "width=16", "--name", "wide")
    assert run.code == 0, run.output
    assert "name: wide" in run.stdout and "width" in run.stdout.splitlines()[1]
    assert (
        invoke("import", "torchvision:resnet18", "-i", "3x64x64", "--arg", "num_classes=7").stdout.count("out: 7") == 1
    )


def test_a_python_package_target(tmp_path, monkeypatch):
    package = tmp_path / "zoo_package"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "nets.py").write_text(USER_MODELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    run = invoke("import", "zoo_package.nets:Tiny", "-i", "3x8x8")
    assert run.code == 0, run.output


def test_unsupported_operations_are_listed_at_once_with_their_source_line(models):
    run = invoke("import", f"{models}:Rolling", "-i", "3x8x8")
    assert run.code == 1
    assert "2 operations with no cnncalc layer kind" in run.stderr
    assert "torch.roll" in run.stderr and "Tensor.sum" in run.stderr
    assert f"{models}:" in run.stderr and "return torch.roll(self.conv(x), 1, dims=2).sum(dim=1)" in run.stderr
    assert run.stdout == ""


def test_allow_uncounted_writes_them_flagged_and_refuses_other_sizes(models, tmp_path):
    output = tmp_path / "rolling.yaml"
    run = invoke("import", f"{models}:Rolling", "-i", "3x8x8", "--allow-uncounted", "-o", str(output))
    assert run.code == 0, run.output
    analyzed = invoke("analyze", str(output), "-f", "json")
    assert analyzed.code == 0
    document = analyzed.json()
    assert [entry["op"] for entry in document["uncounted"]] == ["torch.roll", "Tensor.sum"]
    assert any("is not counted" in warning["message"] for warning in document["warnings"])
    table = invoke("analyze", str(output))
    assert "uncounted" in table.stdout and "is not counted" in table.output
    other = invoke("analyze", str(output), "--input", "3x9x9")
    assert other.code == 1 and "import the model again at this input size" in other.stderr


@pytest.mark.parametrize(
    ("target", "code", "message"),
    [
        ("resnet18", 2, "is not a model target"),
        ("torchvision:resnet_eighteen", 2, "torchvision has no model 'resnet_eighteen'"),
        ("timm:not_a_timm_model", 2, "timm has no model"),
        ("no_such_package_here.models:Net", 2, "no module named 'no_such_package_here.models'"),
        ("{models}:Missing", 2, "has no attribute 'Missing'"),
        ("{models}:not_a_model", 2, "is a int, not a module or a factory"),
        ("{models}:Broken", 1, "building the model failed: ValueError: this model cannot be built"),
        ("{models}:Picky", 1, "the model rejects an input of shape 1x3x8x8"),
        ("/no/such/file.py:Net", 2, "no such file"),
    ],
)
def test_bad_targets_are_one_line_errors(models, target, code, message):
    run = invoke("import", target.format(models=models), "-i", "3x8x8")
    assert run.code == code, run.output
    assert message in run.stderr
    assert run.stderr.startswith("error: ") and "Traceback" not in run.stderr


def test_debug_shows_the_traceback(models):
    run = run_cli("import", f"{models}:Broken", "-i", "3x8x8", "--debug", timeout=120)
    assert run.code != 0 and "Traceback" in run.stderr and "ValueError" in run.stderr


def test_a_failed_import_leaves_an_existing_file_as_it_was(models, tmp_path):
    output = tmp_path / "keep.yaml"
    output.write_text("precious\n")
    run = invoke("import", f"{models}:Rolling", "-i", "3x8x8", "-o", str(output))
    assert run.code == 1
    assert output.read_text() == "precious\n"
    assert [path.name for path in tmp_path.iterdir()] == ["keep.yaml"] or "models.py" in {
        path.name for path in tmp_path.iterdir()
    }


def test_bad_arguments_are_usage_errors(models):
    assert invoke("import", f"{models}:Tiny", "-i", "3x8x8", "--arg", "width").code == 2
    assert invoke("import", f"{models}:Tiny", "-i", "three").code == 2
    assert invoke("import", f"{models}:instance", "-i", "3x8x8", "--arg", "width=3").code == 2


def test_the_json_of_an_imported_spec_lists_nothing_uncounted():
    run = invoke("import", "torchvision:alexnet", "-i", "3x224x224")
    assert run.code == 0
    analyzed = invoke("analyze", "-", "-f", "json", stdin=run.stdout)
    assert json.loads(analyzed.stdout)["uncounted"] == []


def test_importing_leaves_the_users_model_as_it_was():
    import torch

    from cnncalc.importer import import_module

    model = torchvision.models.resnet18()
    model.train()
    model.layer1.eval()  # a mix of modes, as a user may have
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    modes = {name: module.training for name, module in model.named_modules()}
    import_module(model, (3, 64, 64))
    assert {name: module.training for name, module in model.named_modules()} == modes
    after = model.state_dict()
    assert all(after[name].device.type == "cpu" and torch.equal(after[name], before[name]) for name in before)


def test_without_torch_import_says_what_to_install(monkeypatch):
    monkeypatch.setattr("cnncalc.bridge.require.torch_available", lambda: False)
    outcome = invoke("import", "torchvision:resnet18", "-i", "3x224x224")
    assert outcome.code == 3
    assert "`cnncalc import` traces the model with PyTorch, which is not installed" in outcome.stderr
    assert 'pip install "cnncalc[torch]"' in outcome.stderr
