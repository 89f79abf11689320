{#- The power of the marts' tests, shared so that every verdict reads the same way.

    Every per-position and pooled estimate in the camera marts is a log rate ratio with
    a standard error SE (Poisson counts, or quasi-Poisson in the pooled marts) judged
    at 5 % two-sided, or 2.5 % one-sided where the mart tests one direction (the same
    z = 1.959964). The minimum detectable effect (MDE) at 80 % power is the true log
    ratio the test finds four times in five: (z_0.975 + z_0.80) · SE = 2.801585 · SE.
    On the ratio scale that is exp(−2.8 SE) for a fall and exp(+2.8 SE) for a rise. -#}

{% macro mde_log_ratio(se) -%}
    (2.801585 * ({{ se }}))
{%- endmacro %}

{#- The smallest fall, in per cent of the expected count, that the test detects with 80 % power. -#}
{% macro mde_reduction_pct(se) -%}
    (100 * (1 - exp(-{{ mde_log_ratio(se) }})))
{%- endmacro %}

{#- The smallest rise, in per cent of the expected count, that the test detects with 80 % power. -#}
{% macro mde_rise_pct(se) -%}
    (100 * (exp({{ mde_log_ratio(se) }}) - 1))
{%- endmacro %}
