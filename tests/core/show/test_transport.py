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


def test_continuous_time_between_frames_and_loop():
    clk = Clock()
    tr = Transport(25, clock=clk)
    tr.set_range(10, 19)  # 10 frames = 0.4 s
    tr.loop = True
    tr.seek(10)
    tr.play()
    clk.t += 0.125  # binary-exact clock steps keep the arithmetic exact
    assert tr.position() == Fraction(105, 8) and tr.frame() == 13
    assert tr.time() == 0.525
    clk.t += 0.375  # 0.5 s after start: 12.5 frames in a 10-frame loop -> 10 + 2.5
    assert tr.position() == Fraction(25, 2) and tr.playing


def test_position_at_reads_ahead_without_stopping():
    clk = Clock()
    tr = Transport(25, clock=clk)
    tr.set_range(0, 24)
    tr.play()
    # where will we be 2 s from now? at the end (frame 24) -- but asking must not stop the transport
    assert tr.position_at(clk.t + 2.0) == 24
    assert tr.playing
    assert tr.position_at(clk.t + 0.5) == Fraction(25, 2)


def test_switching_clocks_keeps_the_position():
    clk = Clock()
    other = Clock()
    other.t = 5.0  # a device clock with a different origin
    tr = Transport(50, clock=clk)
    tr.play()
    clk.t += 1.0
    assert tr.frame() == 50
    tr.set_clock(other)
    assert tr.position() == 50
    other.t += 0.5
    clk.t += 100.0  # the old clock no longer matters
    assert tr.position() == 75
    assert tr.now() == other.t


def test_rate_and_reverse_speed():
    clk = Clock()
    tr = Transport(Fraction(24000, 1001), clock=clk)
    tr.seek(1000)
    tr.play(-2)
    clk.t += 1001 / 24000 * 10.25  # a bit over ten frame durations at -2x
    assert tr.frame() == 979
    tr.set_range(975, None)
    clk.t += 1.0
    assert tr.frame() == 975 and not tr.playing  # stops on the range start going backwards
