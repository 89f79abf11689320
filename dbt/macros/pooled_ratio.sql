{#- Pooling per-position before/after counts into one rate ratio per group, shared by
    mart_camera_effect_by_area's siblings mart_displacement_by_area and
    mart_effect_decay_by_area so that every pooled answer is computed the same way.

    Indirect standardisation: each position's expected count after, had the control's
    trend applied, is E = before × control_after / control_before (its own windows, so
    unequal window lengths cancel); the pooled RR = Σafter / ΣE. The quasi-Poisson
    dispersion φ is the Pearson χ² of the positions' `after` around E × RR per degree of
    freedom, at least 1: it widens the interval when places differ more than Poisson
    counts would, which is what over-dispersed crime counts do.

    `pearson_term` is evaluated per position inside a window over the group, so a model
    needs no self-join: sum it and divide by `count(*) - 1`. -#}

{% macro pearson_term(after, expected, partition_by) -%}
    case
        when sum({{ expected }}) over (partition by {{ partition_by }}) > 0
            and {{ expected }} * sum({{ after }}) over (partition by {{ partition_by }}) > 0
            then pow(
                    {{ after }} - {{ expected }} * sum({{ after }}) over (partition by {{ partition_by }})
                    / sum({{ expected }}) over (partition by {{ partition_by }}),
                    2
                )
                / ({{ expected }} * sum({{ after }}) over (partition by {{ partition_by }})
                    / sum({{ expected }}) over (partition by {{ partition_by }}))
    end
{%- endmacro %}

{#- φ from the summed Pearson terms and the number of positions contributing. -#}
{% macro dispersion(pearson_sum, positions) -%}
    greatest(1.0, coalesce({{ pearson_sum }} / nullif({{ positions }} - 1, 0), 1.0))
{%- endmacro %}

{#- The standard error of the pooled log RR from the four pooled counts (0.5 added to
    each when one is zero, as in the per-position marts), widened by φ. -#}
{% macro pooled_log_rr_se(after, before, control_after, control_before, phi) -%}
    sqrt({{ phi }} * (
        1.0 / ({{ after }} + {{ zero_k(after, before, control_after, control_before) }})
        + 1.0 / ({{ before }} + {{ zero_k(after, before, control_after, control_before) }})
        + 1.0 / ({{ control_after }} + {{ zero_k(after, before, control_after, control_before) }})
        + 1.0 / ({{ control_before }} + {{ zero_k(after, before, control_after, control_before) }})
    ))
{%- endmacro %}

{% macro zero_k(after, before, control_after, control_before) -%}
    (case when least({{ after }}, {{ before }}, {{ control_after }}, {{ control_before }}) = 0 then 0.5 else 0 end)
{%- endmacro %}
