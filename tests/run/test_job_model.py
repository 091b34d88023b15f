from bulkops.run.job import Check, ListEdit, Operation


def test_operation_round_trips_through_dict() -> None:
    undo = Operation("h1:detach", "PATCH", "/holdouts/h1", body={"gateIDs": []})
    op = Operation(
        "h1:attach",
        "PATCH",
        "/holdouts/h1",
        check=Check("/holdouts/h1", contains={"gateIDs": ["g1"]}),
        edits=(ListEdit("gateIDs", add=("g1",)),),
        undo=undo,
        depends_on=("seg:create",),
        items=("source:gates:g1",),
    )
    assert Operation.from_dict(op.to_dict()) == op
