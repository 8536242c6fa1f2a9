import io

import pytest

from core.errors import JobCancelled
from core.jobs import CancelToken, check_cancelled, run_in_terminal


class CountJob:
    title = "count"

    def __init__(self, n, cancel_at=None, token=None):
        self.n, self.cancel_at, self.token = n, cancel_at, token

    def run(self, progress, cancelled):
        for i in range(self.n):
            if i == self.cancel_at:
                self.token.cancel()
            check_cancelled(cancelled)
            progress((i + 1) / self.n, f"item {i + 1}")
        return self.n


def test_terminal_progress_prints_each_decile_on_a_pipe():
    out = io.StringIO()
    assert run_in_terminal(CountJob(20), stream=out) == 20
    lines = out.getvalue().splitlines()
    # one line when the job starts and one per 10 % after that
    assert lines[0] == "count:   5% item 1" and lines[1] == "count:  10% item 2"
    assert lines[-1] == "count: 100% item 20" and len(lines) == 11


def test_cancel_stops_the_job():
    token = CancelToken()
    with pytest.raises(JobCancelled):
        run_in_terminal(CountJob(10, cancel_at=3, token=token), stream=io.StringIO(), cancelled=token)
