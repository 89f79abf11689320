{#- One row per source system and month: how many of its offence records the taxonomy
    classified by their article, by their chapter only, or not at all, and which codes
    it did not know. An unclassified record is left out of every effect mart, so a
    share above `unclassified_warn_share` makes the build warn by name (the post-hook
    below) and the monthly report print the row. -#}
{{ config(post_hook="{{ warn_unclassified_offences(this) }}") }}

with offences as (
    select * from {{ ref('fct_incident') }}
),

monthly as (
    select
        source_system,
        date_trunc('month', occurred_date)::date as month_start,
        legal_code,
        article,
        offence_class,
        classified_by,
        count(*) as records
    from offences
    group by all
),

-- the codes the taxonomy does not list, most frequent first: `kw 140 (4575)`
unknown as (
    select
        source_system,
        month_start,
        string_agg(
            coalesce(legal_code, '?') || ' ' || coalesce(article, '?') || ' (' || records || ')', ', '
            order by records desc, legal_code asc, article asc
        ) as unknown_codes
    from monthly
    where classified_by is distinct from 'article'
    group by all
),

totals as (
    select
        source_system,
        month_start,
        sum(records)::integer as records,
        coalesce(sum(records) filter (where classified_by = 'article'), 0)::integer as classified_by_article,
        coalesce(sum(records) filter (where classified_by = 'chapter'), 0)::integer as classified_by_chapter,
        coalesce(sum(records) filter (where offence_class = 'unclassified'), 0)::integer as unclassified
    from monthly
    group by all
),

final as (
    select
        totals.source_system,
        totals.month_start,
        totals.records,
        totals.classified_by_article,
        totals.classified_by_chapter,
        totals.unclassified,
        totals.unclassified / totals.records as unclassified_share,
        {{ var('unclassified_warn_share') }}::double as warn_share,
        totals.unclassified / totals.records > {{ var('unclassified_warn_share') }} as is_above_warn_share,
        unknown.unknown_codes
    from totals
    left join unknown
        on totals.source_system = unknown.source_system and totals.month_start = unknown.month_start
)

select * from final
