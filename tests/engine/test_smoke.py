from tests.engine.scenario import Scenario


def test_one_loan_one_trade(book: Scenario):
    book.instrument().trade("T1").loan("L1")
    run = book.run()
    assert set(run.guide) == {"L1"}
    s = run.summary
    assert s["allocated_count"] == 1 and s["candidate_count"] == 1
