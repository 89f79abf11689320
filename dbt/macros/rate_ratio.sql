{#- The control-adjusted rate ratio of a before/after comparison, on the log scale:
    (treated_after / treated_before) / (control_after / control_before), each count
    plus k (a zero correction; 0.5 by default), and its standard error from four
    independent Poisson counts (Woolf's approximation). Shared by the camera effect
    (difference in differences), the displacement ring test and the effect decay, so
    that all three read the same evidence the same way. Both windows of a comparison
    have the same length for the treated and the control area, so the days cancel. -#}

{% macro log_rate_ratio(treated_after, treated_before, control_after, control_before, k=0.5) -%}
    (ln(({{ treated_after }} + {{ k }}) / ({{ treated_before }} + {{ k }}))
        - ln(({{ control_after }} + {{ k }}) / ({{ control_before }} + {{ k }})))
{%- endmacro %}

{% macro log_rate_ratio_se(treated_after, treated_before, control_after, control_before, k=0.5) -%}
    sqrt(1 / ({{ treated_after }} + {{ k }}) + 1 / ({{ treated_before }} + {{ k }})
        + 1 / ({{ control_after }} + {{ k }}) + 1 / ({{ control_before }} + {{ k }}))
{%- endmacro %}
