{#- The offences around each camera position per distance band, window and offence
    scope: the one count that mart_camera_effect, mart_displacement and
    mart_effect_decay read (doc block in _cameras__docs.md). -#}
{%- set window_days = var('effect_window_days') %}
{%- set bands = {
    'coverage': 'distance_m <= ' ~ var('camera_radius_m') ~ ' and not is_in_shared_coverage',
    'buffer': 'distance_m > ' ~ var('camera_radius_m') ~ ' and distance_m <= ' ~ var('displacement_ring_m'),
    'ring_uncovered': 'distance_m > ' ~ var('camera_radius_m') ~ ' and distance_m <= '
        ~ var('displacement_ring_m') ~ ' and not is_in_any_coverage',
    'control': 'distance_m >= ' ~ var('control_ring_inner_m') ~ ' and not is_in_any_coverage',
} %}
with positions as (
    select * from {{ ref('dim_camera_point') }}
),

pairs as (
    select * from {{ ref('int_camera_offence_pairs') }}
),

incidents as (
    select * from {{ ref('fct_incident') }}
),

horizon as (
    select
        min(occurred_date) as first_day,
        max(occurred_date) as last_day
    from incidents
),

scopes as (
    select distinct offence_class as offence_scope
    from incidents
    where offence_class <> 'unclassified'
    union all
    select 'instrumental' as offence_scope
),

-- the window before the position and consecutive windows after it, each cut at the
-- next move or removal and at the data horizon
windows as (
    select
        positions.camera_point_version_id,
        positions.camera_point_id,
        positions.valid_from as effect_start_date,
        periods.period_no,
        greatest((positions.valid_from - to_days({{ window_days }}))::date, horizon.first_day) as before_start,
        positions.valid_from as before_end,
        (positions.valid_from + to_days({{ window_days }} * (periods.period_no - 1)))::date as after_start,
        least(
            positions.valid_from + to_days({{ window_days }} * periods.period_no),
            coalesce(positions.valid_to, date '9999-12-31'),
            horizon.last_day + interval 1 day
        )::date as after_end
    from positions
    cross join horizon
    cross join generate_series(1, {{ var('effect_periods') }}) as periods (period_no)
),

open_windows as (
    select
        *,
        date_diff('day', before_start, before_end) as before_days,
        date_diff('day', after_start, after_end) as after_days
    from windows
    where date_diff('day', before_start, before_end) > 0
        and date_diff('day', after_start, after_end) > 0
),

-- each class, and `instrumental`: property and public order, the planned acts that displace
scoped as (
    select
        *,
        offence_class as offence_scope
    from pairs
    where offence_class <> 'unclassified'
    union all
    select
        *,
        'instrumental' as offence_scope
    from pairs
    where offence_class in ('instrumental_property', 'public_order')
),

banded as (
    select
        camera_point_version_id,
        offence_scope,
        {% for band, condition in bands.items() -%}
        {{ condition }} as is_{{ band }},
        {% endfor -%}
        occurred_date
    from scoped
),

counted as (
    select
        open_windows.camera_point_version_id,
        open_windows.period_no,
        banded.offence_scope,
        {% for band in bands -%}
        count(*) filter (
            where banded.is_{{ band }}
            and banded.occurred_date >= open_windows.before_start
            and banded.occurred_date < open_windows.before_end
        ) as {{ band }}_before,
        count(*) filter (
            where banded.is_{{ band }}
            and banded.occurred_date >= open_windows.after_start
            and banded.occurred_date < open_windows.after_end
        ) as {{ band }}_after,
        {% endfor -%}
        count(*) as paired_offences
    from open_windows
    inner join banded on open_windows.camera_point_version_id = banded.camera_point_version_id
    group by all
),

final as (
    select
        open_windows.camera_point_version_id,
        open_windows.camera_point_id,
        open_windows.period_no::integer as period_no,
        scopes.offence_scope,
        open_windows.effect_start_date,
        open_windows.before_start,
        open_windows.before_end,
        open_windows.after_start,
        open_windows.after_end,
        open_windows.before_days::integer as before_days,
        open_windows.after_days::integer as after_days,
        {% for band in bands -%}
        coalesce(counted.{{ band }}_before, 0) as {{ band }}_before,
        coalesce(counted.{{ band }}_after, 0) as {{ band }}_after,
        {% endfor -%}
        open_windows.before_days >= {{ var('min_window_days') }}
        and open_windows.after_days >= {{ var('min_window_days') }} as has_long_windows,
        -- the position has an offence of the scope within the pairing radius, at any date
        coalesce(counted.paired_offences, 0) > 0 as has_paired_offences
    from open_windows
    cross join scopes
    left join counted
        on
            open_windows.camera_point_version_id = counted.camera_point_version_id
            and open_windows.period_no = counted.period_no
            and scopes.offence_scope = counted.offence_scope
)

select * from final
