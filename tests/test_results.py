

def test_result_names_carry_every_choice_off_the_default():
    from metarl.results import result_stem

    assert result_stem("evaluation", seed=0) == "evaluation_seed0"
    assert result_stem("evaluation", seed=3, checkpoint="best", steps=None, no_pretrained=False) == "evaluation_seed3"
    assert result_stem("evaluation", seed=1, checkpoint="latest", steps=1, no_pretrained=True,
                       lrs=(0.1, 0.05)) == "evaluation_seed1_latest_steps1_no_pretrained_lrs0.1-0.05"
