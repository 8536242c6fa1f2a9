from fractions import Fraction

from core.show.transport import Transport


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_plays_at_rate_without_drift():
    clk = Clock()
    tr = Transport(Fraction(30000, 1001), clock=clk)
    tr.play()
    for _ in range(36000):  # 10 minutes of 1/60 s ticks
        clk.t += 1 / 60
    # 600 s at 29.97 fps = 17982.017... frames
    assert tr.frame() == 17982


def test_pause_seek_step_and_range_end():
    clk = Clock()
    tr = Transport(25, clock=clk)
    tr.seek(10)
    tr.play()
    clk.t += 1.0
    assert tr.frame() == 35
    tr.pause()
    clk.t += 5
    assert tr.frame() == 35 and not tr.playing
    tr.step(-3)
    assert tr.frame() == 32
    tr.set_range(0, 49)
    tr.play()
    clk.t += 10
    assert tr.frame() == 49 and not tr.playing  # stops exactly on the last frame
    tr.play()  # play again from the end restarts at the range start
    assert tr.frame() == 0 and tr.playing


def test_shuttle_jkl():
    clk = Clock()
    tr = Transport(25, clock=clk)
    tr.seek(100)
    tr.shuttle(1)
    tr.shuttle(1)
    assert tr.speed == 2
    tr.shuttle(1)
    tr.shuttle(1)
    tr.shuttle(1)
    assert tr.speed == 8
    tr.shuttle(-1)
    assert tr.speed == -1
    clk.t += 2
    assert tr.frame() == 50
    tr.shuttle(0)
    assert not tr.playing
    clk.t += 100
    f = tr.frame()
    tr.shuttle(-1)
    clk.t += 100
    assert tr.frame() == 0 and not tr.playing and f > 0


def test_loop():
    clk = Clock()
    tr = Transport(10, clock=clk)
    tr.set_range(5, 14)
    tr.loop = True
    tr.seek(5)
    tr.play()
    clk.t += 1.25  # 12.5 frames -> 17.5 -> wraps to 7
    assert tr.frame() == 7
    assert tr.timecode() == "00:00:00:07"
